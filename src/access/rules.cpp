// The module-access rules of API.md section 2, applied to facts read from the catalog.
#include "access/model.hpp"

namespace modaccess {

namespace {
const char *const kSuperAdmin = "SUPER_ADMIN";

// Until when the user may use module m in the tenant (kDenied if not at all).
int64_t module_until(const Facts &f, const Module &m)
{
    if (!f.user_active || !f.tenant_active || !m.active)
        return kDenied;
    if (f.platform_role == kSuperAdmin)
        return kForever;
    if (!f.member_active)
        return kDenied;
    auto sub = f.subscriptions.find(m.code);
    if (sub == f.subscriptions.end() || !sub->second.enabled)
        return kDenied;
    if (!f.user_modules.empty()) {
        auto own = f.user_modules.find(m.code);
        if (own == f.user_modules.end() || !own->second)
            return kDenied;
    }
    return sub->second.expires_at;
}

// Adds the permissions granted to role (if any) into held.
void grant_role(const Globals &g, const std::string &role, std::vector<bool> &held)
{
    auto it = g.role_permissions.find(role);
    if (it == g.role_permissions.end())
        return;
    for (size_t i = 0; i < held.size(); ++i)
        held[i] = held[i] || it->second[i];
}
}  // namespace

Access decide(const Facts &f, const Globals &g)
{
    Access a;
    a.until.reserve(g.modules.size());
    for (const Module &m : g.modules)
        a.until.push_back(module_until(f, m));
    a.permissions.assign(g.permissions.size(), false);
    if (f.user_active && f.tenant_active) {
        if (!f.platform_role.empty())
            grant_role(g, f.platform_role, a.permissions);
        if (f.member_active)
            grant_role(g, f.tenant_role, a.permissions);
    }
    return a;
}

}  // namespace modaccess
