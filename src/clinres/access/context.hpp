// The session context (user and tenant) that row-level-security policies read.
#pragma once

#include "clinres/access/model.hpp"

namespace modaccess {

// Defines the GUCs clinres.user_id and clinres.tenant_id; called from _PG_init.
void init_context();

// The context user / tenant, or null when not set.
const Uuid *context_user();
const Uuid *context_tenant();

// Parses a uuid in PostgreSQL's accepted spellings; false if s is not one.
bool parse_uuid(const char *s, Uuid &out);

} // namespace modaccess
