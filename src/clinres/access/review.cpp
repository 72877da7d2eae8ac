// SQL entry point behind access_review (docs/reference.md, "Access governance"): has_module's rule
// (rules.cpp) for every member of a tenant and every module, read in one query.
#include "clinres/access/cache.hpp"
#include "clinres/pg/datum.hpp"
#include "clinres/pg/srf.hpp"

namespace {

using modaccess::Uuid;

// One member's access to one module: the rule's reason and window.
struct Grant {
    Uuid user;
    int module;
    modaccess::Ruling ruling;
};

// _access_review(tenant_id) -> TABLE(user_id, module_code, source, valid_from, valid_until): each
// member and module the member may use at now(), the reason (super_admin, inherited, granted) and
// the instants between which the answer holds (NULL: open).
Datum access_review(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    Uuid tenant = pg::uuid_arg(fcinfo, 0);
    modaccess::View v = modaccess::view(modaccess::Key{Uuid{}, tenant});
    const modaccess::Globals &g = *v.globals;
    auto members = modaccess::read_tenant_members_now(tenant, g);
    int64_t now = GetCurrentTransactionStartTimestamp();
    std::vector<Grant> grants;
    for (const auto &[id, user] : members) {
        modaccess::Access a = modaccess::access_in(user, tenant);
        for (size_t m = 0; m < g.modules.size(); ++m) {
            modaccess::Ruling r = modaccess::rule(g, a, *v.tenant, static_cast<int>(m), now);
            if (r.allowed(now))
                grants.push_back(Grant{id, static_cast<int>(m), r});
        }
    }
    pg::materialize(fcinfo, false, [&](auto put) {
        for (const Grant &x : grants) {
            pg_uuid_t *user = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
            std::memcpy(user->data, x.user.bytes, 16);
            Datum values[5] = {UUIDPGetDatum(user), CStringGetTextDatum(g.modules[x.module].code.c_str()),
                               CStringGetTextDatum(modaccess::reason_name(x.ruling.reason)),
                               TimestampTzGetDatum(x.ruling.from), TimestampTzGetDatum(x.ruling.until)};
            bool nulls[5] = {false, false, false, x.ruling.from == modaccess::kDenied,
                             x.ruling.until == modaccess::kForever};
            put(values, nulls);
        }
    });
    return 0;
}

} // namespace

CLINRES_FUNCTION(clinres_access_review, access_review)
