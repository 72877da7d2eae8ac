// Reads the facts the access rules need from clinres's catalog tables, via SPI.
#pragma once

#include "access/model.hpp"
#include "pg/postgres.hpp"

#include <vector>

namespace modaccess {

// What one catalog read returned, and the snapshot it was read under.
template <typename T>
struct Read {
    T value;
    uint64_t snapshot_completions;  // see cache.cpp: decides whether the read may be kept
};

// The OID of clinres.modules, which stands for the whole catalog in invalidations
// (InvalidOid if the extension is not installed in this database).
Oid sentinel_relation();

Read<Globals> read_globals(Oid sentinel);
Read<Facts> read_facts(Oid sentinel, const Key &key);
// Tenants in which the user could hold a module: its memberships, or all for platform roles.
std::vector<Uuid> read_candidate_tenants(Oid sentinel, const Uuid &user);

}  // namespace modaccess
