// The backend-local access cache behind has_module and friends (see cache.cpp).
#pragma once

#include "clinres/access/change_log.hpp"
#include "clinres/access/decision.hpp"
#include "clinres/access/model.hpp"
#include "clinres/pg/postgres.hpp"

#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace modaccess {

struct Stats {
    uint64_t hits, misses, invalidations, evictions, entries, bytes, capacity;
    uint64_t shared_hits, shared_entries, shared_bytes; // the shared table (shared_table.hpp)
};

// Everything needed to answer questions about one (user, tenant), kept alive together:
// the user's access is a copy, so nothing the cache does next can change it.
struct View {
    std::shared_ptr<const Globals> globals;
    std::shared_ptr<const TenantEntry> tenant;
    Access access;
    // Asked at the transaction's start (now()), like every answer of has_module.
    int64_t until(int module) const
    {
        return module_until(*globals, access, *tenant, module, GetCurrentTransactionStartTimestamp());
    }
    // A membership outside its validity holds no tenant role.
    Standing standing() const
    {
        Standing s{access, TenantFacts{tenant->exists, tenant->active, tenant->code}};
        s.access.member = member_at(access, GetCurrentTransactionStartTimestamp());
        return s;
    }
    bool permission(int p) const { return holds(*globals, standing(), p); }
};

// Registers the invalidation callback and the cache's GUC; called from _PG_init.
void init_cache();

// Starts a call of a SQL function: notices a new statement or snapshot and takes pending invalidations.
void begin_call();

// Counters that, unchanged, mean an earlier answer still holds (for call-site memos).
uint64_t generation();
uint64_t epoch();

// The entries for (user, tenant), read from the catalog on a miss.
View view(const Key &key);

// The fast path of view(key).until(module): answers from cached entries only, if
// they are cached and g is still the current globals; false means "use view()".
bool cached_until(const Key &key, int module, const Globals *g, int64_t &until);

// has_module's answer from the shared table (clinres preloaded): until when key may use
// module (an index of g), if the table holds it and may answer this backend now; false
// means "ask the backend's cache".
bool shared_answer(const Key &key, int module, const Globals *g, int64_t &until);

// Puts key's answers, from this backend's cached entries, into the shared table (if it may).
void share(const Key &key);

// A user as the catalog has it now (every membership, whatever its status), and the
// tenants that removed it; read afresh, never cached (the decision's target).
UserFacts read_user_now(const Uuid &user, const Globals &g);
std::vector<Uuid> read_former_tenants_now(const Uuid &user);
// Every member of a tenant (whatever the status) with all its memberships, read afresh (access_review).
std::unordered_map<Uuid, UserFacts, UuidHash> read_tenant_members_now(const Uuid &tenant, const Globals &g);

// Modules, permissions and role grants as the catalog has them now.
std::shared_ptr<const Globals> globals();

// Index of module code (any case) in g.modules; raises 22023 if unknown.
int module_index(const Globals &g, std::string_view code);

// Index of a permission code (any case) in g.permissions; raises 22023 if unknown.
int permission_index(const Globals &g, std::string_view code);

// Tenants in which user could hold a module (memberships, or all for platform roles).
std::vector<Uuid> candidate_tenants(const Uuid &user);

void count_hit();
Stats stats();

// What a statement trigger invalidates: modules, roles and permissions (everything), or every user or tenant.
enum class Kind { Globals, Users, Tenants };

// Trigger bodies; each raises 42501 unless the trigger fired on a table of clinres's
// catalog schema. invalidate_kind drops a whole kind in every backend; invalidate_key
// drops one user's or tenant's entry (with the shared log; else the whole kind).
void invalidate_kind(Oid fired_on, Kind kind);
void invalidate_key(Oid fired_on, ChangeKind kind, const Uuid &key);

} // namespace modaccess
