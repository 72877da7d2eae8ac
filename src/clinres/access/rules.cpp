// The module-access rules of docs/reference.md, "Module access", applied to cached catalog entries.
#include "clinres/access/model.hpp"

namespace modaccess {

Access access_in(const UserFacts &u, const Uuid &tenant)
{
    Access a;
    a.user_active = u.active;
    a.super_admin = u.super_admin;
    a.platform_role = u.platform_role;
    for (const MemberFacts &m : u.memberships) {
        if (!(m.tenant == tenant))
            continue;
        if (!m.active) {
            a.disabled_member = true;
            continue;
        }
        a.member = true;
        a.role = m.role;
        a.configured = m.configured;
        a.enabled = m.configured ? m.enabled : ModuleSet::all();
    }
    return a;
}

const char *reason_name(Reason r)
{
    switch (r) {
    case Reason::UserDisabled:
        return "user_disabled";
    case Reason::TenantDisabled:
        return "tenant_disabled";
    case Reason::ModuleInactive:
        return "module_inactive";
    case Reason::SuperAdmin:
        return "super_admin";
    case Reason::NotMember:
        return "not_member";
    case Reason::MembershipDisabled:
        return "membership_disabled";
    case Reason::NotSubscribed:
        return "not_subscribed";
    case Reason::SubscriptionExpired:
        return "subscription_expired";
    case Reason::NotGranted:
        return "not_granted";
    case Reason::Inherited:
        return "inherited";
    case Reason::Granted:
        return "granted";
    }
    return "unknown";
}

Ruling rule(const Globals &g, const Access &a, const TenantEntry &t, int m, int64_t now)
{
    // A fact that holds at no instant: the window is empty, whatever came before.
    auto never = [](Reason why) { return Ruling{why, kForever, kDenied}; };
    if (!a.user_active)
        return never(Reason::UserDisabled);
    if (!t.active)
        return never(Reason::TenantDisabled);
    if (!g.modules[m].active)
        return never(Reason::ModuleInactive);
    if (a.super_admin)
        return Ruling{Reason::SuperAdmin, kDenied, kForever};
    if (!a.member)
        return never(a.disabled_member ? Reason::MembershipDisabled : Reason::NotMember);
    if (t.subscribed_until[m] == kDenied)
        return never(Reason::NotSubscribed);
    // expires_at is stored, not evaluated: the window ends there and the instant asked about
    // falls inside it or not, so that a subscription that lapses needs no write.
    Ruling r{a.configured ? Reason::Granted : Reason::Inherited, kDenied, t.subscribed_until[m]};
    bool decided = !(now < r.until);
    if (decided)
        r.reason = Reason::SubscriptionExpired;
    if (!a.enabled.has(m))
        r = never(decided ? r.reason : Reason::NotGranted);
    return r;
}

int64_t module_until(const Globals &g, const Access &a, const TenantEntry &t, int m)
{
    Ruling r = rule(g, a, t, m, kDenied);
    return r.from < r.until ? r.until : kDenied;
}

} // namespace modaccess
