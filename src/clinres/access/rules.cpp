// The module-access rules of docs/reference.md, "Module access", applied to cached catalog entries.
#include "clinres/access/model.hpp"

namespace modaccess {

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

} // namespace modaccess
