// SQL entry point behind access_review (docs/reference.md, "Access governance"): has_module's rule
// (rules.cpp) for every member of a tenant and every module, read in one query.
#include "clinres/access/cache.hpp"
#include "clinres/pg/datum.hpp"
#include "clinres/pg/spi.hpp"
#include "clinres/pg/srf.hpp"

#include <string>

namespace {

using modaccess::Uuid;

// One member's access to one module: the rule's reason and window.
struct Grant {
    Uuid user;
    int module;
    modaccess::Ruling ruling;
};

// The trail rows that give access, one per (target, module) they name; module NULL: the
// membership's creation or a module configuration (what an inherited module goes back to).
pg::Statement trail_sql = {
    "SELECT l.target, x.m, l.id, l.actor_id, l.created_at FROM clinres.admin_logs l"
    " CROSS JOIN LATERAL (SELECT l.detail OPERATOR(pg_catalog.->>) 'module'"
    "                      WHERE l.action OPERATOR(pg_catalog.=) 'tenant.module.grant'"
    "                     UNION ALL"
    "                     SELECT e FROM pg_catalog.jsonb_array_elements_text("
    "                         CASE WHEN l.action OPERATOR(pg_catalog.=) 'tenant.modules' AND "
    "pg_catalog.jsonb_typeof("
    "                                   l.detail OPERATOR(pg_catalog.->) 'after' OPERATOR(pg_catalog.->) "
    "'modules')"
    "                                   OPERATOR(pg_catalog.=) 'array'"
    "                              THEN l.detail OPERATOR(pg_catalog.->) 'after' OPERATOR(pg_catalog.->) "
    "'modules'"
    "                              ELSE '[]' END) e"
    "                     UNION ALL"
    "                     SELECT NULL WHERE l.action IN ('user.create', 'tenant.assign', 'tenant.modules')) "
    "x(m)"
    " WHERE l.tenant_id OPERATOR(pg_catalog.=) $1 AND l.target IS NOT NULL"
    "   AND l.action IN ('tenant.module.grant', 'tenant.modules', 'user.create', 'tenant.assign')",
    1,
    {UUIDOID}};

// Who gave access and when: the latest trail row (highest id) naming it.
struct Giver {
    int64_t id = -1;
    bool actor_null = true;
    Uuid actor;
    int64_t at = 0;
};

// The latest trail row per "target\0module" ("target\0" alone: module NULL), in one pass.
std::unordered_map<std::string, Giver> read_givers(const Uuid &tenant)
{
    pg::OwnerSpi spi(GetUserId(), false);
    Datum args[1] = {pg::uuid_datum(tenant)};
    pg::Rows rows = spi.run(trail_sql, args);
    spi.finish();
    std::unordered_map<std::string, Giver> givers;
    givers.reserve(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
        std::string key = rows.at(r, 0).text;
        key += '\0';
        if (!rows.at(r, 1).null)
            key += rows.at(r, 1).text;
        Giver &gv = givers[key];
        if (rows.at(r, 2).num <= gv.id)
            continue;
        gv.id = rows.at(r, 2).num;
        gv.actor_null = rows.at(r, 3).null;
        if (!gv.actor_null)
            std::memcpy(gv.actor.bytes, rows.at(r, 3).text.data(), 16);
        gv.at = rows.at(r, 4).num;
    }
    return givers;
}

// _access_review(tenant_id) -> TABLE(user_id, module_code, source, valid_from, valid_until,
// granted_by, granted_at): each member and module the member may use at now(), the reason
// (super_admin, inherited, granted), the instants between which the answer holds (NULL: open),
// and who gave it when (granted: the latest trail row naming the module, else the latest
// creation or configuration of the membership; inherited: that one; otherwise NULL).
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
    auto givers = read_givers(tenant);
    auto giver = [&](const std::string &key) -> const Giver * {
        auto it = givers.find(key);
        return it == givers.end() ? nullptr : &it->second;
    };
    pg::materialize(fcinfo, false, [&](auto put) {
        for (const Grant &x : grants) {
            pg_uuid_t *user = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
            std::memcpy(user->data, x.user.bytes, 16);
            std::string source = modaccess::reason_name(x.ruling.reason);
            const Giver *own = nullptr, *membership = nullptr;
            if (source == "granted" || source == "inherited") {
                std::string key = pg::to_string(x.user) + '\0';
                membership = giver(key);
                if (source == "granted")
                    own = giver(key + g.modules[x.module].code);
            }
            const Giver *by = own != nullptr && !own->actor_null ? own : membership;
            const Giver *at = own != nullptr ? own : membership;
            pg_uuid_t *actor = nullptr;
            if (by != nullptr && !by->actor_null) {
                actor = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
                std::memcpy(actor->data, by->actor.bytes, 16);
            }
            Datum values[7] = {UUIDPGetDatum(user),
                               CStringGetTextDatum(g.modules[x.module].code.c_str()),
                               CStringGetTextDatum(source.c_str()),
                               TimestampTzGetDatum(x.ruling.from),
                               TimestampTzGetDatum(x.ruling.until),
                               actor ? UUIDPGetDatum(actor) : Datum(0),
                               at ? TimestampTzGetDatum(at->at) : Datum(0)};
            bool nulls[7] = {false,
                             false,
                             false,
                             x.ruling.from == modaccess::kDenied,
                             x.ruling.until == modaccess::kForever,
                             actor == nullptr,
                             at == nullptr};
            put(values, nulls);
        }
    });
    return 0;
}

} // namespace

CLINRES_FUNCTION(clinres_access_review, access_review)
