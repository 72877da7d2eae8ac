// The module-access rules of docs/reference.md, "Module access", applied to cached catalog entries.
#include "clinres/access/model.hpp"

#include <algorithm>

namespace modaccess {

namespace {
// Whether role grants permission p.
bool role_grants(const Globals &g, const std::string &role, int p)
{
    auto it = g.role_permissions.find(role);
    return it != g.role_permissions.end() && it->second[p];
}
} // namespace

const Membership *UserEntry::membership(const Uuid &tenant) const
{
    auto it = std::lower_bound(memberships.begin(), memberships.end(), tenant,
                               [](const Membership &m, const Uuid &t) { return m.tenant < t; });
    return it != memberships.end() && it->tenant == tenant ? &*it : nullptr;
}

int64_t module_until(const Globals &g, const UserEntry &u, const TenantEntry &t, const Uuid &tenant, int m)
{
    if (!u.active || !t.active || !g.modules[m].active)
        return kDenied;
    if (u.super_admin)
        return kForever;
    const Membership *member = u.membership(tenant);
    if (member == nullptr || !member->active)
        return kDenied;
    if (member->configured && !member->enabled.has(m))
        return kDenied;
    return t.subscribed_until[m];
}

bool holds_permission(const Globals &g, const UserEntry &u, const TenantEntry &t, const Uuid &tenant, int p)
{
    if (!u.active || !t.active)
        return false;
    if (!u.platform_role.empty() && role_grants(g, u.platform_role, p))
        return true;
    const Membership *member = u.membership(tenant);
    return member != nullptr && member->active && role_grants(g, member->role, p);
}

} // namespace modaccess
