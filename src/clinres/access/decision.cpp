// The one authorization decision of user management (see decision.hpp and docs/users.md).
#include "clinres/access/decision.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace modaccess {

namespace {

constexpr std::array<std::pair<std::string_view, Verb>, 23> kVerbs = {{
    {"context", Verb::Context},
    {"view", Verb::View},
    {"profile", Verb::Profile},
    {"explain", Verb::Explain},
    {"list", Verb::List},
    {"audit", Verb::Audit},
    {"export", Verb::Export},
    {"grant", Verb::Grant},
    {"create", Verb::Create},
    {"add", Verb::Add},
    {"role", Verb::Role},
    {"modules", Verb::Modules},
    {"enable_member", Verb::EnableMember},
    {"disable_member", Verb::DisableMember},
    {"validity", Verb::Validity},
    {"remove", Verb::Remove},
    {"update", Verb::Update},
    {"password", Verb::Password},
    {"enable", Verb::Enable},
    {"disable", Verb::Disable},
    {"delete", Verb::Delete},
    {"sessions", Verb::Sessions},
    {"erase", Verb::Erase},
}};

// The permission a verb needs in each tenant concerned.
const char *permission_of(Verb v)
{
    switch (v) {
    case Verb::Create:
    case Verb::Add:
        return "user:create";
    case Verb::Remove:
    case Verb::Delete:
        return "user:delete";
    case Verb::Role:
    case Verb::Modules:
    case Verb::EnableMember:
    case Verb::DisableMember:
    case Verb::Validity:
    case Verb::Update:
    case Verb::Password:
    case Verb::Enable:
    case Verb::Disable:
    case Verb::Sessions:
        return "user:edit";
    default:
        return "user:view";
    }
}

// How messages name what the verb does to a user ("nobody may <phrase> themselves").
const char *phrase_of(Verb v)
{
    switch (v) {
    case Verb::Add:
        return "add";
    case Verb::Role:
        return "change the role of";
    case Verb::Modules:
        return "configure the modules of";
    case Verb::EnableMember:
    case Verb::DisableMember:
    case Verb::Enable:
    case Verb::Disable:
        return "change the status of";
    case Verb::Validity:
        return "change the validity of";
    case Verb::Remove:
        return "remove";
    case Verb::Update:
        return "edit";
    case Verb::Password:
        return "reset the password of";
    case Verb::Delete:
        return "delete";
    case Verb::Sessions:
        return "manage the sessions of";
    default:
        return "read";
    }
}

// Whether the verb is refused on oneself.
bool refused_on_self(Verb v)
{
    return v == Verb::Role || v == Verb::DisableMember || v == Verb::Validity || v == Verb::Remove ||
           v == Verb::Disable || v == Verb::Delete;
}

// Whether the verb acts on one membership (tenant given) rather than on the account.
bool on_membership(Verb v)
{
    return v == Verb::Role || v == Verb::Modules || v == Verb::EnableMember || v == Verb::DisableMember ||
           v == Verb::Validity || v == Verb::Remove || v == Verb::Sessions;
}

// Whether the verb acts on the account, in every tenant of the user at once.
bool on_account(Verb v)
{
    return v == Verb::Update || v == Verb::Password || v == Verb::Enable || v == Verb::Disable ||
           v == Verb::Delete;
}

std::string quoted(const std::string &s)
{
    return "\"" + s + "\"";
}

std::string uuid_text(const Uuid &u)
{
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += hex[u.bytes[i] >> 4];
        out += hex[u.bytes[i] & 15];
    }
    return out;
}

// A refusal with the denial marker.
Denial refuse(std::string kind, std::string what, std::string message, std::string detail = {})
{
    return Denial{true,
                  kInsufficientPrivilege,
                  std::move(kind),
                  std::move(what),
                  std::move(message),
                  std::move(detail)};
}

Denial missing_permission(const char *permission, const TenantFacts &t)
{
    return refuse("permission", permission,
                  "permission denied: " + quoted(permission) + " is required in tenant " + quoted(t.code));
}

Denial above_ceiling(const Globals &g, RoleId r, const TenantFacts &t)
{
    const std::string &code = r < g.roles.size() ? g.roles[r] : std::string("?");
    return refuse("role", code,
                  "permission denied: role " + quoted(code) + " is above your own in tenant " +
                      quoted(t.code));
}

// Whether the actor is an active SUPER_ADMIN (its standing in any tenant says so).
bool super_admin(const Standing &s)
{
    return s.access.user_active && s.access.super_admin;
}

// The target's membership in tenant, or null.
const MemberFacts *membership(const Target &u, const Uuid &tenant)
{
    auto it = std::find_if(u.memberships.begin(), u.memberships.end(),
                           [&](const MemberFacts &m) { return m.tenant == tenant; });
    return it == u.memberships.end() ? nullptr : &*it;
}

// Whether the actor holds user:view in a tenant the target belongs to (any status).
bool may_see(const Facts &f, const Standing &any, const Target &u)
{
    if (super_admin(any))
        return u.exists;
    if (!u.exists)
        return false;
    int view = f.globals.permission_index.at("user:view");
    for (const MemberFacts &m : u.memberships)
        if (holds(f.globals, f.actor_in(m.tenant), view))
            return true;
    return false;
}

// Never names the user (id or e-mail): the caller may have found it by e-mail (import).
Denial not_visible()
{
    return refuse("permission", "user:view",
                  "permission denied: \"user:view\" is required in a tenant of the user");
}

// Refuses granting a platform role to anyone but a SUPER_ADMIN.
Denial platform_grant(const Globals &g, RoleId r)
{
    return refuse("role", g.roles[r],
                  "permission denied: only a SUPER_ADMIN may grant platform role " + quoted(g.roles[r]));
}

// Refuses acting on a holder of a platform role to anyone but a SUPER_ADMIN.
Denial platform_target(const Globals &g, Verb verb, const Target &u)
{
    const std::string &code = u.platform_role < g.roles.size() ? g.roles[u.platform_role] : std::string("?");
    return refuse("role", code,
                  std::string("permission denied: only a SUPER_ADMIN may ") + phrase_of(verb) +
                      " a user with platform role " + quoted(code));
}

// The role a grant names is within the ceiling (a platform role: SUPER_ADMINs only).
Denial check_grant(const Globals &g, const Standing &in, RoleId role, bool super)
{
    if (role >= g.roles.size())
        return {};
    if (g.role_is_platform[role] && !super)
        return platform_grant(g, role);
    if (!within_ceiling(g, in, role))
        return above_ceiling(g, role, in.tenant);
    return {};
}

// A user the actor may not see, or (for a SUPER_ADMIN) one that does not exist.
Denial unseen(bool super, const Target &u)
{
    if (super && !u.exists)
        return Denial{true, kNoDataFound, {}, {}, "user " + quoted(uuid_text(u.id)) + " does not exist", {}};
    return not_visible();
}

// The checks of a verb on the target's membership in one tenant.
Denial decide_membership(const Facts &f, Verb verb, const Uuid &tenant, const Target &u, RoleId role,
                         bool super)
{
    const Globals &g = f.globals;
    Standing in = f.actor_in(tenant);
    const char *permission = permission_of(verb);
    if (!holds(g, in, g.permission_index.at(permission)))
        return missing_permission(permission, in.tenant);
    const MemberFacts *m = membership(u, tenant);
    if (m == nullptr)
        return Denial{true,
                      kNoDataFound,
                      {},
                      {},
                      "user " + quoted(uuid_text(u.id)) + " is not a member of tenant " +
                          quoted(in.tenant.code),
                      {}};
    if (u.platform_role != kNoRole && !super)
        return platform_target(g, verb, u);
    if (refused_on_self(verb) && u.id == f.actor)
        return refuse("self", phrase_of(verb),
                      std::string("permission denied: nobody may ") + phrase_of(verb) + " themselves");
    if (!within_ceiling(g, in, m->role))
        return above_ceiling(g, m->role, in.tenant);
    if (verb == Verb::Role)
        return check_grant(g, in, role, super);
    return {};
}

// The checks of a verb on the account: the permission, and the target's role within the
// ceiling, in every tenant the target belongs to.
Denial decide_account(const Facts &f, Verb verb, const Target &u, bool super)
{
    const Globals &g = f.globals;
    if (u.platform_role != kNoRole && !super)
        return platform_target(g, verb, u);
    if (refused_on_self(verb) && u.id == f.actor)
        return refuse("self", phrase_of(verb),
                      std::string("permission denied: nobody may ") + phrase_of(verb) + " themselves");
    if (super)
        return {};
    const char *permission = permission_of(verb);
    std::string every = "permission denied: " + quoted(permission) + " is required in every tenant of user " +
                        quoted(uuid_text(u.id));
    if (u.memberships.empty())
        return refuse("permission", permission, every,
                      "The user belongs to no tenant; only a SUPER_ADMIN may change the user's account.");
    // The first tenant (by code) that refuses, so that the message does not depend on ids.
    std::optional<std::pair<std::string, Denial>> first;
    for (const MemberFacts &m : u.memberships) {
        Standing in = f.actor_in(m.tenant);
        Denial d;
        if (!holds(g, in, g.permission_index.at(permission)))
            d = refuse(
                "permission", permission, every,
                "The user belongs to a tenant where you do not hold it; only a SUPER_ADMIN may change the "
                "user's account.");
        else if (!within_ceiling(g, in, m.role))
            d = above_ceiling(g, m.role, in.tenant);
        if (d.refused && (!first || in.tenant.code < first->first))
            first.emplace(in.tenant.code, std::move(d));
    }
    return first ? first->second : Denial{};
}

// Sessions of another user: user:edit and the grant ceiling over the target's role in the
// session's tenant (tenant null: in any tenant of the target, else the first refusal by
// tenant code); a SUPER_ADMIN everywhere, its sessions in tenants it is no member of too.
Denial decide_sessions(const Facts &f, const Uuid *tenant, const Target &u, bool super)
{
    if (super)
        return {};
    if (tenant != nullptr)
        return decide_membership(f, Verb::Sessions, *tenant, u, kNoRole, super);
    if (u.memberships.empty())
        return refuse("permission", "user:edit",
                      "permission denied: \"user:edit\" is required in a tenant of user " +
                          quoted(uuid_text(u.id)));
    std::optional<std::pair<std::string, Denial>> first;
    for (const MemberFacts &m : u.memberships) {
        Denial d = decide_membership(f, Verb::Sessions, m.tenant, u, kNoRole, super);
        if (!d.refused)
            return {};
        std::string code = f.actor_in(m.tenant).tenant.code;
        if (!first || code < first->first)
            first.emplace(code, std::move(d));
    }
    return first->second;
}

} // namespace

std::optional<Verb> verb_named(std::string_view name)
{
    for (const auto &[spelling, verb] : kVerbs)
        if (spelling == name)
            return verb;
    return std::nullopt;
}

bool holds(const Globals &g, const Standing &s, int p)
{
    const Access &a = s.access;
    if (!a.user_active || p < 0)
        return false;
    auto grants = [&](RoleId r) { return r < g.role_permissions.size() && g.role_permissions[r][p]; };
    if (grants(a.platform_role))
        return true;
    return s.tenant.active && a.member && grants(a.role);
}

bool within_ceiling(const Globals &g, const Standing &s, RoleId r)
{
    const Access &a = s.access;
    if (super_admin(s))
        return true;
    if (r >= g.roles.size() || g.role_is_platform[r] || !a.user_active || !s.tenant.active || !a.member ||
        a.role >= g.roles.size())
        return false;
    for (size_t p = 0; p < g.permissions.size(); ++p)
        if (g.role_permissions[r][p] && !g.role_permissions[a.role][p])
            return false;
    return true;
}

Denial decide(const Facts &f, Verb verb, const Uuid *tenant, const Target *target, RoleId role)
{
    const Globals &g = f.globals;
    Standing any = f.actor_in(tenant != nullptr ? *tenant : Uuid{});
    bool super = super_admin(any);
    switch (verb) {
    case Verb::Context:
        if (tenant == nullptr || super || (any.access.user_active && any.tenant.active && any.access.member))
            return {};
        return refuse("session", "tenant",
                      "permission denied: user " + quoted(uuid_text(f.actor)) +
                          " is not an active member of tenant " +
                          quoted(any.tenant.exists ? any.tenant.code : uuid_text(*tenant)),
                      "The context tenant must be one of the context user's active tenants (any tenant for a "
                      "SUPER_ADMIN).");
    case Verb::List:
    case Verb::Audit:
    case Verb::Export:
        if (tenant == nullptr)
            return super ? Denial{}
                         : refuse("permission", "user:view",
                                  "permission denied: only a SUPER_ADMIN may read users or audit rows across "
                                  "tenants");
        if (!holds(g, any, g.permission_index.at("user:view")))
            return missing_permission("user:view", any.tenant);
        return {};
    case Verb::Erase:
        // Right to erasure (API.md section 7): a SUPER_ADMIN's, of anyone but themselves, even
        // of a deleted user, whose personal data the trail still holds.
        if (!super)
            return refuse("permission", "erase",
                          "permission denied: only a SUPER_ADMIN may erase a user's personal data");
        if (target != nullptr && target->id == f.actor)
            return refuse("self", "erase", "permission denied: nobody may erase themselves");
        return {};
    case Verb::Grant:
        return check_grant(g, any, role, super);
    case Verb::Create:
        if (!holds(g, any, g.permission_index.at("user:create")))
            return missing_permission("user:create", any.tenant);
        return check_grant(g, any, role, super);
    default:
        break;
    }
    if (target == nullptr)
        return refuse("row", "user", "permission denied: no user was given");
    const Target &u = *target;
    switch (verb) {
    case Verb::Profile: {
        if (u.id == f.actor)
            return {};
        int view = g.permission_index.at("user:view");
        bool member = tenant != nullptr && membership(u, *tenant) != nullptr;
        if ((any.access.user_active && g.role_permissions.size() > any.access.platform_role &&
             g.role_permissions[any.access.platform_role][view]) ||
            (member && holds(g, any, view)))
            return {};
        return refuse("permission", "user:view",
                      "permission denied to read the profile of user " + uuid_text(u.id),
                      "Only the context user, or a context user holding user:view in the tenant, may read a "
                      "profile.");
    }
    case Verb::Explain: {
        // Oneself; or user:view from a platform role; or user:view in the tenant about one of
        // its members or former members (so that the reasons reveal nothing about other users).
        if (u.id == f.actor)
            return {};
        int view = g.permission_index.at("user:view");
        bool platform = any.access.user_active && g.role_permissions.size() > any.access.platform_role &&
                        g.role_permissions[any.access.platform_role][view];
        bool belongs = tenant != nullptr && (membership(u, *tenant) != nullptr ||
                                             std::find(u.former_tenants.begin(), u.former_tenants.end(),
                                                       *tenant) != u.former_tenants.end());
        if (platform || (belongs && holds(g, any, view)))
            return {};
        return refuse(
            "permission", "user:view", "permission denied to explain the access of user " + uuid_text(u.id),
            "Only the user, or a context user holding user:view in the tenant, may ask about a user "
            "of the tenant.");
    }
    case Verb::Add: {
        if (!holds(g, any, g.permission_index.at("user:create")))
            return missing_permission("user:create", any.tenant);
        bool former = tenant != nullptr && std::find(u.former_tenants.begin(), u.former_tenants.end(),
                                                     *tenant) != u.former_tenants.end();
        if (!former && !may_see(f, any, u))
            return unseen(super, u);
        if (u.platform_role != kNoRole && !super)
            return platform_target(g, verb, u);
        return check_grant(g, any, role, super);
    }
    default:
        break;
    }
    if (verb == Verb::Sessions && u.id == f.actor && any.access.user_active)
        return {}; // one's own sessions, anywhere
    if (!may_see(f, any, u))
        return unseen(super, u);
    if (verb == Verb::View)
        return {};
    if (verb == Verb::Sessions)
        return decide_sessions(f, tenant, u, super);
    if (on_membership(verb)) {
        if (tenant == nullptr)
            return refuse("row", "tenant", "permission denied: no tenant was given");
        return decide_membership(f, verb, *tenant, u, role, super);
    }
    if (on_account(verb))
        return decide_account(f, verb, u, super);
    return refuse("row", "verb", "permission denied: unknown verb");
}

} // namespace modaccess
