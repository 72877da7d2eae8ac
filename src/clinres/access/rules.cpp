// The module-access rules of docs/reference.md, "Module access", applied to cached catalog entries.
#include "clinres/access/model.hpp"

#include <algorithm>

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
        a.valid = m.valid;
        a.grants = m.grants;
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
    case Reason::MembershipNotYetValid:
        return "membership_not_yet_valid";
    case Reason::MembershipExpired:
        return "membership_expired";
    case Reason::NotSubscribed:
        return "not_subscribed";
    case Reason::SubscriptionExpired:
        return "subscription_expired";
    case Reason::GrantNotYetValid:
        return "grant_not_yet_valid";
    case Reason::GrantExpired:
        return "grant_expired";
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
    // Instants are stored, not evaluated (a subscription's expires_at, a membership's or a grant's
    // validity): the window is their intersection, and the instant asked about falls inside it or
    // not, so that nothing needs a write when an instant passes. The first bound that excludes
    // now is the reason.
    Ruling r{a.configured ? Reason::Granted : Reason::Inherited, kDenied, kForever};
    bool decided = false;
    auto bound = [&](const Validity &v, Reason early, Reason late) {
        r.from = std::max(r.from, v.from);
        r.until = std::min(r.until, v.until);
        if (!decided && (now < v.from || !(now < v.until))) {
            r.reason = now < v.from ? early : late;
            decided = true;
        }
    };
    auto lack = [&](Reason why) { return never(decided ? r.reason : why); };
    bound(a.valid, Reason::MembershipNotYetValid, Reason::MembershipExpired);
    if (t.subscribed_until[m] == kDenied)
        return lack(Reason::NotSubscribed);
    bound(Validity{m, kDenied, t.subscribed_until[m]}, Reason::SubscriptionExpired,
          Reason::SubscriptionExpired);
    if (!a.enabled.has(m))
        return lack(Reason::NotGranted);
    for (const Validity &v : a.grants)
        if (v.module == m)
            bound(v, Reason::GrantNotYetValid, Reason::GrantExpired);
    return r;
}

int64_t module_until(const Globals &g, const Access &a, const TenantEntry &t, int m, int64_t now)
{
    Ruling r = rule(g, a, t, m, now);
    return r.allowed(now) ? r.until : kDenied;
}

} // namespace modaccess
