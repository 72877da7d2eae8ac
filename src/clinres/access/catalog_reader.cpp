// Catalog queries of the access engine. Every name is schema-qualified and every
// operator is pg_catalog's, so the caller's search_path cannot redirect them while
// they run as the catalog's owner. (On Citus the catalog tables are
// reference tables whose rows live in shards, so they are read through SQL.)
#include "clinres/access/catalog_reader.hpp"

#include "clinres/access/catalog_hooks.hpp"
#include "clinres/pg/guard.hpp"
#include "clinres/pg/spi.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <tuple>

namespace modaccess {

namespace {

pg::Statement globals_sql = {
    "SELECT 'm', m.code, m.name, m.route, m.schema_name::pg_catalog.text, m.sort_order, m.is_active"
    "  FROM clinres.modules m"
    " UNION ALL SELECT 'p', p.code, NULL, NULL, NULL, NULL, NULL FROM clinres.permissions p"
    " UNION ALL SELECT 'o', r.code, r.scope, NULL, NULL, NULL, NULL FROM clinres.roles r"
    " UNION ALL SELECT 'r', rp.role_code, rp.permission_code, NULL, NULL, NULL, NULL"
    "  FROM clinres.role_permissions rp",
    0,
    {}};

// Rows of one user: (kind, user, tenant, text, text, bool), parsed by parse_users.
pg::Statement user_sql = {
    "SELECT 'u', u.id, NULL::pg_catalog.uuid, u.status, u.platform_role, NULL::pg_catalog.bool"
    "  FROM clinres.users u WHERE u.id OPERATOR(pg_catalog.=) $1"
    " UNION ALL SELECT 'm', ut.user_id, ut.tenant_id, ut.status, ut.role_code, NULL"
    "  FROM clinres.user_tenants ut WHERE ut.user_id OPERATOR(pg_catalog.=) $1"
    " UNION ALL SELECT 'g', um.user_id, um.tenant_id, um.module_code, NULL, um.is_enabled"
    "  FROM clinres.user_modules um WHERE um.user_id OPERATOR(pg_catalog.=) $1",
    1,
    {UUIDOID}};

// The same rows for every member of a tenant, in one query. Each branch joins the tenant's
// memberships itself (not a CTE, which has no statistics): then the planner looks the 50,000
// members of a large tenant up by index instead of hashing every user and membership.
pg::Statement members_sql = {
    "SELECT 'u', u.id, NULL::pg_catalog.uuid, u.status, u.platform_role, NULL::pg_catalog.bool"
    "  FROM clinres.user_tenants m JOIN clinres.users u ON u.id OPERATOR(pg_catalog.=) m.user_id"
    " WHERE m.tenant_id OPERATOR(pg_catalog.=) $1"
    " UNION ALL SELECT 'm', ut.user_id, ut.tenant_id, ut.status, ut.role_code, NULL"
    "  FROM clinres.user_tenants m JOIN clinres.user_tenants ut ON ut.user_id OPERATOR(pg_catalog.=) "
    "m.user_id"
    " WHERE m.tenant_id OPERATOR(pg_catalog.=) $1"
    " UNION ALL SELECT 'g', um.user_id, um.tenant_id, um.module_code, NULL, um.is_enabled"
    "  FROM clinres.user_tenants m JOIN clinres.user_modules um ON um.user_id OPERATOR(pg_catalog.=) "
    "m.user_id"
    " WHERE m.tenant_id OPERATOR(pg_catalog.=) $1",
    1,
    {UUIDOID}};

pg::Statement tenant_sql = {
    "SELECT 't', t.status, NULL::pg_catalog.bool, NULL::pg_catalog.timestamptz, t.code"
    "  FROM clinres.tenants t WHERE t.id OPERATOR(pg_catalog.=) $1"
    " UNION ALL SELECT 's', tm.module_code, tm.is_enabled, tm.expires_at, NULL"
    "  FROM clinres.tenant_modules tm WHERE tm.tenant_id OPERATOR(pg_catalog.=) $1",
    1,
    {UUIDOID}};

pg::Statement candidates_sql = {
    "SELECT ut.tenant_id FROM clinres.user_tenants ut WHERE ut.user_id OPERATOR(pg_catalog.=) $1"
    " UNION SELECT t.id FROM clinres.tenants t"
    "  WHERE EXISTS (SELECT FROM clinres.users u"
    "                 WHERE u.id OPERATOR(pg_catalog.=) $1 AND u.platform_role IS NOT NULL)",
    1,
    {UUIDOID}};

// The same rows for every user (a cold scan of a catalog that fits in the cache).
pg::Statement all_users_sql = {"SELECT 'u', u.id, NULL::pg_catalog.uuid, u.status, u.platform_role, "
                               "NULL::pg_catalog.bool FROM clinres.users u"
                               " UNION ALL SELECT 'm', ut.user_id, ut.tenant_id, ut.status, ut.role_code, "
                               "NULL FROM clinres.user_tenants ut"
                               " UNION ALL SELECT 'g', um.user_id, um.tenant_id, um.module_code, NULL, "
                               "um.is_enabled FROM clinres.user_modules um",
                               0,
                               {}};

// The tenants that removed a user and may add it back (clinres.former_members, 0.3.0 on).
pg::Statement former_sql = {"SELECT fm.tenant_id FROM clinres.former_members fm"
                            " WHERE fm.user_id OPERATOR(pg_catalog.=) $1",
                            1,
                            {UUIDOID}};

// Validities (0.4.0): (user, tenant, module code or NULL for the membership, from, until) of the
// memberships and enabled grants that have one, read only where the catalog has the columns.
#define CLINRES_VALIDITIES(USERS)                                                                            \
    "SELECT ut.user_id, ut.tenant_id, NULL::pg_catalog.text, ut.valid_from, ut.valid_until"                  \
    "  FROM clinres.user_tenants ut WHERE (ut.valid_from IS NOT NULL OR ut.valid_until IS NOT NULL)"         \
    "   AND " USERS("ut") " UNION ALL SELECT um.user_id, um.tenant_id, um.module_code, um.valid_from, "      \
                          "um.valid_until FROM clinres.user_modules um WHERE um.is_enabled"                  \
                          "   AND (um.valid_from IS NOT NULL OR um.valid_until IS NOT NULL) AND " USERS(     \
                              "um")
#define CLINRES_ONE_USER(t) t ".user_id OPERATOR(pg_catalog.=) $1"
#define CLINRES_MEMBERS(t)                                                                                   \
    t ".user_id IN (SELECT m.user_id FROM clinres.user_tenants m WHERE m.tenant_id OPERATOR(pg_catalog.=) "  \
      "$1)"
#define CLINRES_EVERY_USER(t) "true"
pg::Statement user_validities_sql = {CLINRES_VALIDITIES(CLINRES_ONE_USER), 1, {UUIDOID}};
pg::Statement members_validities_sql = {CLINRES_VALIDITIES(CLINRES_MEMBERS), 1, {UUIDOID}};
pg::Statement all_validities_sql = {CLINRES_VALIDITIES(CLINRES_EVERY_USER), 0, {}};
#undef CLINRES_VALIDITIES
#undef CLINRES_ONE_USER
#undef CLINRES_MEMBERS
#undef CLINRES_EVERY_USER

pg::Statement user_count_sql = {"SELECT pg_catalog.count(*) FROM clinres.users u", 0, {}};

const std::string kActive = "active";

// A statement of this file on the relations a scale-out layer named (CatalogReadPlan), and
// the relations it was written for.
struct PlacedStatement {
    std::map<std::string, std::string> relations;
    std::string sql;
    pg::Statement stmt;
};
std::map<const pg::Statement *, PlacedStatement> placed;

// stmt as it reads the relations a scale-out layer names in place of the catalog tables
// (kept per statement, with its own plan).
pg::Statement &placed_statement(pg::Statement &stmt, const std::map<std::string, std::string> &relations)
{
    auto it = placed.find(&stmt);
    if (it != placed.end() && it->second.relations == relations)
        return it->second.stmt;
    PlacedStatement &p = placed[&stmt];
    p.relations = relations;
    p.sql = on_relations(stmt.sql, relations);
    p.stmt = stmt;
    p.stmt.plan = nullptr;
    p.stmt.sql = p.sql.c_str();
    return p.stmt;
}

// One catalog read as the registered scale-out layer plans it (catalog_hooks.hpp): planned when
// made, finished when it ends without an error (an error's abort unwinds the layer's state).
struct PlannedRead {
    CatalogReadPlan plan;
    PlannedRead()
    {
        if (catalog_hooks().before_read)
            plan = catalog_hooks().before_read();
    }
    ~PlannedRead()
    {
        if (plan.finish && std::uncaught_exceptions() == 0)
            plan.finish(plan.token);
    }
    PlannedRead(const PlannedRead &) = delete;
    PlannedRead &operator=(const PlannedRead &) = delete;
};

// Runs one catalog statement as the catalog's owner, as a registered scale-out layer plans
// the read (catalog_hooks.hpp).
pg::Rows run_as_owner(Oid sentinel, bool latest, pg::Statement &stmt, const Datum *args)
{
    PlannedRead read;
    const CatalogReadPlan &plan = read.plan;
    pg::Statement &run = plan.relations.empty() ? stmt : placed_statement(stmt, plan.relations);
    pg::OwnerSpi spi(pg::relation_owner(sentinel), latest);
    pg::Rows rows = spi.run(run, args);
    spi.finish();
    return rows;
}

// Whether the catalog has validities (user_modules.valid_until, from 0.4.0 on: a library serves
// older catalogs until ALTER EXTENSION UPDATE).
bool has_validities()
{
    bool found = false;
    pg::call([&] {
        Oid nsp = get_namespace_oid("clinres", true);
        Oid rel = OidIsValid(nsp) ? get_relname_relid("user_modules", nsp) : InvalidOid;
        found = OidIsValid(rel) && get_attnum(rel, "valid_until") != InvalidAttrNumber;
    });
    return found;
}

// Rows of a user statement and of its validities statement, in one read as the catalog's owner.
std::pair<pg::Rows, pg::Rows> run_with_validities(Oid sentinel, bool latest, pg::Statement &stmt,
                                                  pg::Statement &validities, const Datum *args)
{
    bool timed = has_validities();
    PlannedRead read;
    const CatalogReadPlan &plan = read.plan;
    bool on_placements = !plan.relations.empty();
    pg::OwnerSpi spi(pg::relation_owner(sentinel), latest);
    std::pair<pg::Rows, pg::Rows> rows;
    rows.first = spi.run(on_placements ? placed_statement(stmt, plan.relations) : stmt, args);
    if (timed)
        rows.second =
            spi.run(on_placements ? placed_statement(validities, plan.relations) : validities, args);
    spi.finish();
    return rows;
}

Datum uuid_datum(const Uuid &u)
{
    return PointerGetDatum(u.bytes);
}

Uuid uuid_of(const pg::Cell &cell)
{
    Uuid u;
    std::memcpy(u.bytes, cell.text.data(), 16);
    return u;
}

} // namespace

Sentinels sentinel_relations()
{
    Sentinels s;
    pg::call([&] {
        Oid nsp = get_namespace_oid("clinres", true);
        if (OidIsValid(nsp)) {
            // 0.1.0 has no doorbell sequences: its catalog tables ring until ALTER EXTENSION UPDATE.
            bool doorbells = OidIsValid(get_relname_relid("access_doorbell_log", nsp));
            s.globals = get_relname_relid(doorbells ? "access_doorbell_globals" : "modules", nsp);
            s.users = get_relname_relid(doorbells ? "access_doorbell_users" : "users", nsp);
            s.tenants = get_relname_relid(doorbells ? "access_doorbell_tenants" : "tenants", nsp);
            s.log = get_relname_relid(doorbells ? "access_doorbell_log" : "user_tenants", nsp);
        }
    });
    if (!OidIsValid(s.globals) || !OidIsValid(s.users) || !OidIsValid(s.tenants) || !OidIsValid(s.log))
        return Sentinels{};
    return s;
}

Globals read_globals(Oid sentinel, bool latest)
{
    pg::Rows rows = run_as_owner(sentinel, latest, globals_sql, nullptr);
    Globals g;
    std::vector<std::pair<std::string, std::string>> grants;
    std::vector<std::pair<std::string, bool>> roles; // code, platform scope
    for (size_t r = 0; r < rows.size(); ++r) {
        const std::string &kind = rows.at(r, 0).text;
        if (kind == "m")
            g.modules.push_back(Module{rows.at(r, 1).text, rows.at(r, 2).text, rows.at(r, 3).text,
                                       rows.at(r, 4).text, static_cast<int>(rows.at(r, 5).num),
                                       rows.at(r, 6).num != 0});
        else if (kind == "p")
            g.permissions.push_back(rows.at(r, 1).text);
        else if (kind == "o")
            roles.emplace_back(rows.at(r, 1).text, rows.at(r, 2).text == "platform");
        else
            grants.emplace_back(rows.at(r, 1).text, rows.at(r, 2).text);
    }
    std::sort(g.modules.begin(), g.modules.end(), [](const Module &a, const Module &b) {
        return a.sort_order != b.sort_order ? a.sort_order < b.sort_order : a.code < b.code;
    });
    std::sort(g.permissions.begin(), g.permissions.end());
    std::sort(roles.begin(), roles.end());
    for (const auto &[code, platform] : roles) {
        g.roles.push_back(code);
        g.role_is_platform.push_back(platform);
    }
    if (g.modules.size() > kMaxModules)
        throw pg::Error(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                        "clinres.modules has " + std::to_string(g.modules.size()) + " modules; at most " +
                            std::to_string(kMaxModules) + " are supported");
    if (g.roles.size() > kMaxRoles)
        throw pg::Error(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                        "clinres.roles has " + std::to_string(g.roles.size()) + " roles; at most " +
                            std::to_string(kMaxRoles) + " are supported");
    for (size_t i = 0; i < g.modules.size(); ++i)
        g.module_index[g.modules[i].code] = static_cast<int>(i);
    for (size_t i = 0; i < g.permissions.size(); ++i)
        g.permission_index[g.permissions[i]] = static_cast<int>(i);
    for (size_t i = 0; i < g.roles.size(); ++i)
        g.role_index[g.roles[i]] = static_cast<RoleId>(i);
    g.role_permissions.assign(g.roles.size(), std::vector<bool>(g.permissions.size(), false));
    for (const auto &[role, permission] : grants)
        g.role_permissions[g.role_index.at(role)][g.permission_index.at(permission)] = true;
    return g;
}

namespace {

// The id of a role code in g; kNoRole for none (null) or one g does not know yet.
RoleId role_id(const Globals &g, const pg::Cell &code)
{
    auto it = code.null ? g.role_index.end() : g.role_index.find(code.text);
    return it == g.role_index.end() ? kNoRole : it->second;
}

// Facts of every user in rows of user_sql's shape.
std::unordered_map<Uuid, UserFacts, UuidHash> parse_users(const pg::Rows &rows, const Globals &g)
{
    std::unordered_map<Uuid, UserFacts, UuidHash> users;
    std::vector<std::tuple<Uuid, Uuid, int>> enabled; // (user, tenant, module index) of rows with is_enabled
    for (size_t r = 0; r < rows.size(); ++r) {
        char kind = rows.at(r, 0).text[0];
        UserFacts &u = users[uuid_of(rows.at(r, 1))];
        if (kind == 'u') {
            u.exists = true;
            u.active = rows.at(r, 3).text == kActive;
            u.platform_role = role_id(g, rows.at(r, 4));
            u.super_admin = !rows.at(r, 4).null && rows.at(r, 4).text == "SUPER_ADMIN";
            continue;
        }
        Uuid tenant = uuid_of(rows.at(r, 2));
        if (kind == 'm') {
            MemberFacts m;
            m.tenant = tenant;
            m.role = role_id(g, rows.at(r, 4));
            m.active = rows.at(r, 3).text == kActive;
            u.memberships.push_back(m);
        } else {
            auto module = g.module_index.find(rows.at(r, 3).text);
            if (module != g.module_index.end())
                enabled.emplace_back(uuid_of(rows.at(r, 1)), tenant,
                                     rows.at(r, 5).num != 0 ? module->second : -1);
        }
    }
    auto by_tenant = [](const MemberFacts &m, const Uuid &t) { return m.tenant < t; };
    for (auto &[id, u] : users)
        std::sort(u.memberships.begin(), u.memberships.end(),
                  [](const MemberFacts &a, const MemberFacts &b) { return a.tenant < b.tenant; });
    for (const auto &[user, tenant, module] : enabled) {
        auto &memberships = users[user].memberships;
        auto member = std::lower_bound(memberships.begin(), memberships.end(), tenant, by_tenant);
        if (member == memberships.end() || !(member->tenant == tenant))
            continue; // a module row without membership grants nothing
        member->configured = true;
        if (module >= 0)
            member->enabled.add(module);
    }
    return users;
}

} // namespace

namespace {

// Adds the validities (rows of CLINRES_VALIDITIES) to the users' memberships; marks them timed.
void add_validities(std::unordered_map<Uuid, UserFacts, UuidHash> &users, const pg::Rows &rows,
                    const Globals &g)
{
    for (size_t r = 0; r < rows.size(); ++r) {
        auto user = users.find(uuid_of(rows.at(r, 0)));
        if (user == users.end())
            continue;
        Uuid tenant = uuid_of(rows.at(r, 1));
        auto &memberships = user->second.memberships;
        auto member = std::lower_bound(memberships.begin(), memberships.end(), tenant,
                                       [](const MemberFacts &m, const Uuid &t) { return m.tenant < t; });
        if (member == memberships.end() || !(member->tenant == tenant))
            continue;
        Validity v;
        v.from = rows.at(r, 3).null ? kDenied : rows.at(r, 3).num;
        v.until = rows.at(r, 4).null ? kForever : rows.at(r, 4).num;
        if (rows.at(r, 2).null) {
            member->valid = v;
        } else {
            auto module = g.module_index.find(rows.at(r, 2).text);
            if (module == g.module_index.end())
                continue;
            v.module = module->second;
            member->grants.push_back(v);
        }
        user->second.timed = true;
    }
}

} // namespace

UserFacts read_user(Oid sentinel, bool latest, const Uuid &user, const Globals &g)
{
    Datum args[1] = {uuid_datum(user)};
    auto rows = run_with_validities(sentinel, latest, user_sql, user_validities_sql, args);
    auto users = parse_users(rows.first, g);
    add_validities(users, rows.second, g);
    auto it = users.find(user);
    return it == users.end() ? UserFacts{} : std::move(it->second);
}

std::unordered_map<Uuid, UserFacts, UuidHash> read_all_users(Oid sentinel, bool latest, const Globals &g,
                                                             size_t at_most)
{
    pg::OwnerSpi spi(pg::relation_owner(sentinel), latest);
    pg::Rows count = spi.run(user_count_sql, nullptr);
    std::unordered_map<Uuid, UserFacts, UuidHash> users;
    if (static_cast<size_t>(count.at(0, 0).num) <= at_most) {
        users = parse_users(spi.run(all_users_sql, nullptr), g);
        if (has_validities())
            add_validities(users, spi.run(all_validities_sql, nullptr), g);
    }
    spi.finish();
    return users;
}

std::unordered_map<Uuid, UserFacts, UuidHash> read_tenant_members(Oid sentinel, bool latest,
                                                                  const Uuid &tenant, const Globals &g)
{
    Datum args[1] = {uuid_datum(tenant)};
    auto rows = run_with_validities(sentinel, latest, members_sql, members_validities_sql, args);
    auto users = parse_users(rows.first, g);
    add_validities(users, rows.second, g);
    return users;
}

TenantEntry read_tenant(Oid sentinel, bool latest, const Uuid &tenant, const Globals &g)
{
    Datum args[1] = {uuid_datum(tenant)};
    pg::Rows rows = run_as_owner(sentinel, latest, tenant_sql, args);
    TenantEntry t;
    t.subscribed_until.assign(g.modules.size(), kDenied);
    for (size_t r = 0; r < rows.size(); ++r) {
        if (rows.at(r, 0).text[0] == 't') {
            t.exists = true;
            t.active = rows.at(r, 1).text == kActive;
            t.code = rows.at(r, 4).text;
            continue;
        }
        auto module = g.module_index.find(rows.at(r, 1).text);
        if (module == g.module_index.end() || rows.at(r, 2).num == 0)
            continue;
        const pg::Cell &expires = rows.at(r, 3);
        t.subscribed_until[module->second] = expires.null ? kForever : expires.num;
    }
    return t;
}

std::vector<Uuid> read_candidate_tenants(Oid sentinel, bool latest, const Uuid &user)
{
    Datum args[1] = {uuid_datum(user)};
    pg::Rows rows = run_as_owner(sentinel, latest, candidates_sql, args);
    std::vector<Uuid> tenants(rows.size());
    for (size_t r = 0; r < rows.size(); ++r)
        tenants[r] = uuid_of(rows.at(r, 0));
    return tenants;
}

std::vector<Uuid> read_former_tenants(Oid sentinel, bool latest, const Uuid &user)
{
    Datum args[1] = {uuid_datum(user)};
    pg::Rows rows = run_as_owner(sentinel, latest, former_sql, args);
    std::vector<Uuid> tenants(rows.size());
    for (size_t r = 0; r < rows.size(); ++r)
        tenants[r] = uuid_of(rows.at(r, 0));
    return tenants;
}

} // namespace modaccess
