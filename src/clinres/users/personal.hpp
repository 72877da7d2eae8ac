// The personal fields of an audit row's detail (personal.cpp).
#pragma once

#include "clinres/pg/postgres.hpp"

extern "C" {
#include "utils/jsonb.h"
}

namespace users {

// detail with each personal value replaced by "sha256:" and its digest (salt: the row's, or
// empty), as a new jsonb: what canonical form 2 hashes. Plain C (ereport on failure): call it
// under pg::call.
Jsonb *digested_detail(Jsonb *detail, const bytea *salt);

// Whether detail has a key of a personal field at any depth: without one, digested_detail(detail)
// is detail. Plain C (ereport on failure): call it under pg::call.
bool has_personal_key(Jsonb *detail);

// A new audit row's salt: 16 random bytes (a palloc'd bytea).
Datum new_salt();

} // namespace users
