// The module-access rules of docs/reference.md, "Module access", applied to cached catalog entries.
#include "clinres/access/model.hpp"

namespace modaccess {

namespace {
// Whether role grants permission p.
bool role_grants(const Globals &g, RoleId role, int p)
{
    return role < g.role_permissions.size() && g.role_permissions[role][p];
}
} // namespace

Access access_in(const UserFacts &u, const Uuid &tenant)
{
    Access a;
    a.user_active = u.active;
    a.super_admin = u.super_admin;
    a.platform_role = u.platform_role;
    for (const MemberFacts &m : u.memberships)
        if (m.tenant == tenant && m.active) {
            a.member = true;
            a.role = m.role;
            a.enabled = m.configured ? m.enabled : ModuleSet::all();
        }
    return a;
}

int64_t module_until(const Globals &g, const Access &a, const TenantEntry &t, int m)
{
    if (!a.user_active || !t.active || !g.modules[m].active)
        return kDenied;
    if (a.super_admin)
        return kForever;
    if (!a.member || !a.enabled.has(m))
        return kDenied;
    return t.subscribed_until[m];
}

bool holds_permission(const Globals &g, const Access &a, const TenantEntry &t, int p)
{
    if (!a.user_active || !t.active)
        return false;
    if (role_grants(g, a.platform_role, p))
        return true;
    return a.member && role_grants(g, a.role, p);
}

} // namespace modaccess
