// The backend-local access cache behind has_module and friends (see cache.cpp).
#pragma once

#include "access/model.hpp"

#include <string_view>
#include <vector>

namespace modaccess {

struct Stats {
    uint64_t hits, misses, invalidations, evictions, entries, bytes, capacity;
};

// Registers the invalidation callback and the cache's GUC; called from _PG_init.
void init_cache();

// Starts a call of a SQL function: notices a new statement and takes pending invalidations.
void begin_call();

// Counters that, unchanged, mean an earlier answer still holds (for call-site memos).
uint64_t generation();
uint64_t epoch();

// The access record of (user, tenant), read from the catalog on a miss.
// The reference stays valid until the next lookup or begin_call.
const Access &lookup(const Key &key);

// Modules, permissions and role grants as the catalog has them now.
const Globals &globals();

// Index of module code (any case) in globals().modules; raises 22023 if unknown.
int module_index(std::string_view code);

// Index of a permission code in globals().permissions; raises 22023 if unknown.
int permission_index(std::string_view code);

// Tenants in which user could hold a module (memberships, or all for platform roles).
std::vector<Uuid> candidate_tenants(const Uuid &user);

void count_hit();
Stats stats();

// Sends the invalidation that tells every backend the catalog changed (trigger body).
void invalidate_catalog();

}  // namespace modaccess
