// Catalog queries of the access engine. Every name is schema-qualified and every
// operator is pg_catalog's, so the caller's search_path cannot redirect them while
// they run as the catalog's owner. (DESIGN.md: on Citus the catalog tables are
// reference tables whose rows live in shards, so they are read through SQL.)
#include "access/catalog_reader.hpp"

#include "pg/guard.hpp"
#include "pg/spi.hpp"

#include <algorithm>

namespace modaccess {

namespace {

pg::Statement globals_sql = {
    "SELECT 'm', m.code, m.name, m.route, m.schema_name::pg_catalog.text, m.sort_order, m.is_active"
    "  FROM clinres.modules m"
    " UNION ALL SELECT 'p', p.code, NULL, NULL, NULL, NULL, NULL FROM clinres.permissions p"
    " UNION ALL SELECT 'r', rp.role_code, rp.permission_code, NULL, NULL, NULL, NULL"
    "  FROM clinres.role_permissions rp",
    0, {}};

pg::Statement facts_sql = {
    "SELECT 'u', NULL::pg_catalog.text, u.status, u.platform_role, NULL::pg_catalog.bool, NULL::pg_catalog.timestamptz"
    "  FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) $1"
    " UNION ALL SELECT 't', NULL, t.status, NULL, NULL, NULL"
    "  FROM clinres.tenants t WHERE t.id OPERATOR(pg_catalog.=) $2"
    " UNION ALL SELECT 'm', NULL, ut.status, ut.role_code, NULL, NULL"
    "  FROM clinres.user_tenants ut"
    "  WHERE ut.tenant_id OPERATOR(pg_catalog.=) $2 AND ut.user_id OPERATOR(pg_catalog.=) $1"
    " UNION ALL SELECT 's', tm.module_code, NULL, NULL, tm.is_enabled, tm.expires_at"
    "  FROM clinres.tenant_modules tm WHERE tm.tenant_id OPERATOR(pg_catalog.=) $2"
    " UNION ALL SELECT 'g', um.module_code, NULL, NULL, um.is_enabled, NULL"
    "  FROM clinres.user_modules um"
    "  WHERE um.tenant_id OPERATOR(pg_catalog.=) $2 AND um.user_id OPERATOR(pg_catalog.=) $1",
    2, {UUIDOID, UUIDOID}};

pg::Statement candidates_sql = {
    "SELECT ut.tenant_id FROM clinres.user_tenants ut WHERE ut.user_id OPERATOR(pg_catalog.=) $1"
    " UNION SELECT t.id FROM clinres.tenants t"
    "  WHERE EXISTS (SELECT FROM clinres.users u"
    "                 WHERE u.id OPERATOR(pg_catalog.=) $1 AND u.platform_role IS NOT NULL)",
    1, {UUIDOID}};

const std::string kActive = "active";

// Runs one catalog statement as the catalog's owner.
pg::Rows run_as_owner(Oid sentinel, bool latest, pg::Statement &stmt, const Datum *args)
{
    pg::OwnerSpi spi(pg::relation_owner(sentinel), latest);
    pg::Rows rows = spi.run(stmt, args);
    spi.finish();
    return rows;
}

Datum uuid_datum(const Uuid &u) { return PointerGetDatum(u.bytes); }

}  // namespace

Oid sentinel_relation()
{
    Oid relid = InvalidOid;
    pg::call([&] {
        Oid nsp = get_namespace_oid("clinres", true);
        if (OidIsValid(nsp))
            relid = get_relname_relid("modules", nsp);
    });
    return relid;
}

Globals read_globals(Oid sentinel, bool latest)
{
    pg::Rows rows = run_as_owner(sentinel, latest, globals_sql, nullptr);
    Globals g;
    std::vector<std::pair<std::string, std::string>> grants;
    for (size_t r = 0; r < rows.size(); ++r) {
        const std::string &kind = rows.at(r, 0).text;
        if (kind == "m")
            g.modules.push_back(Module{rows.at(r, 1).text, rows.at(r, 2).text, rows.at(r, 3).text,
                                       rows.at(r, 4).text, static_cast<int>(rows.at(r, 5).num),
                                       rows.at(r, 6).num != 0});
        else if (kind == "p")
            g.permissions.push_back(rows.at(r, 1).text);
        else
            grants.emplace_back(rows.at(r, 1).text, rows.at(r, 2).text);
    }
    std::sort(g.modules.begin(), g.modules.end(), [](const Module &a, const Module &b) {
        return a.sort_order != b.sort_order ? a.sort_order < b.sort_order : a.code < b.code;
    });
    std::sort(g.permissions.begin(), g.permissions.end());
    for (size_t i = 0; i < g.modules.size(); ++i)
        g.module_index[g.modules[i].code] = static_cast<int>(i);
    for (size_t i = 0; i < g.permissions.size(); ++i)
        g.permission_index[g.permissions[i]] = static_cast<int>(i);
    for (const auto &[role, permission] : grants) {
        auto &held = g.role_permissions[role];
        held.resize(g.permissions.size(), false);
        held[g.permission_index.at(permission)] = true;
    }
    return g;
}

Facts read_facts(Oid sentinel, bool latest, const Key &key)
{
    Datum args[2] = {uuid_datum(key.user), uuid_datum(key.tenant)};
    pg::Rows rows = run_as_owner(sentinel, latest, facts_sql, args);
    Facts f;
    for (size_t r = 0; r < rows.size(); ++r) {
        char kind = rows.at(r, 0).text[0];
        const std::string &code = rows.at(r, 1).text;
        const std::string &status = rows.at(r, 2).text;
        const pg::Cell &enabled = rows.at(r, 4);
        if (kind == 'u') {
            f.user_active = status == kActive;
            f.platform_role = rows.at(r, 3).text;
        } else if (kind == 't') {
            f.tenant_active = status == kActive;
        } else if (kind == 'm') {
            f.member_active = status == kActive;
            f.tenant_role = rows.at(r, 3).text;
        } else if (kind == 's') {
            const pg::Cell &expires = rows.at(r, 5);
            f.subscriptions[code] = Subscription{enabled.num != 0, expires.null ? kForever : expires.num};
        } else {
            f.user_modules[code] = enabled.num != 0;
        }
    }
    return f;
}

std::vector<Uuid> read_candidate_tenants(Oid sentinel, bool latest, const Uuid &user)
{
    Datum args[1] = {uuid_datum(user)};
    pg::Rows rows = run_as_owner(sentinel, latest, candidates_sql, args);
    std::vector<Uuid> tenants(rows.size());
    for (size_t r = 0; r < rows.size(); ++r)
        std::memcpy(tenants[r].bytes, rows.at(r, 0).text.data(), 16);
    return tenants;
}

}  // namespace modaccess
