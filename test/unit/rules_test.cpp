// The access rules (module_until, and the decision's holds) as a table: each row flips one fact.
#include "clinres/access/decision.hpp"

#include <gtest/gtest.h>

using namespace modaccess;

namespace {

Uuid id(unsigned char b)
{
    Uuid u{};
    u.bytes[15] = b;
    return u;
}

// Role ids of the world below.
constexpr RoleId kSuperAdmin = 0, kTenantAdmin = 1, kUser = 2;

// A world of one user, one tenant, two modules (0 = aia, 1 = pkb) and the permission user:view.
struct World {
    Globals g;
    UserFacts u;
    TenantEntry t;
    Uuid tenant = id(7);

    World()
    {
        g.modules.resize(2);
        g.modules[0].active = g.modules[1].active = true;
        g.roles = {"SUPER_ADMIN", "TENANT_ADMIN", "USER"};
        g.role_permissions = {{true}, {true}, {false}};
        u.active = true;
        MemberFacts m;
        m.tenant = tenant;
        m.active = true;
        m.role = kUser;
        u.memberships.push_back(m);
        t.active = true;
        t.subscribed_until = {kForever, 1000};
    }
};

struct Case {
    const char *name;
    void (*change)(World &);
    int module;
    int64_t expect;
    Reason reason; // at instant 500
};

const Case kCases[] = {
    {"member inherits a subscribed module", [](World &) {}, 0, kForever, Reason::Inherited},
    {"subscription end is the answer's end", [](World &) {}, 1, 1000, Reason::Inherited},
    {"disabled user", [](World &w) { w.u.active = false; }, 0, kDenied, Reason::UserDisabled},
    {"disabled tenant", [](World &w) { w.t.active = false; }, 0, kDenied, Reason::TenantDisabled},
    {"inactive module", [](World &w) { w.g.modules[0].active = false; }, 0, kDenied, Reason::ModuleInactive},
    {"not a member", [](World &w) { w.u.memberships.clear(); }, 0, kDenied, Reason::NotMember},
    {"disabled membership", [](World &w) { w.u.memberships[0].active = false; }, 0, kDenied,
     Reason::MembershipDisabled},
    {"not subscribed", [](World &w) { w.t.subscribed_until[0] = kDenied; }, 0, kDenied,
     Reason::NotSubscribed},
    {"configured without the module", [](World &w) { w.u.memberships[0].configured = true; }, 0, kDenied,
     Reason::NotGranted},
    {"configured with the module",
     [](World &w) {
         w.u.memberships[0].configured = true;
         w.u.memberships[0].enabled.add(0);
     },
     0, kForever, Reason::Granted},
    {"super admin without membership",
     [](World &w) {
         w.u.memberships.clear();
         w.u.super_admin = true;
     },
     1, kForever, Reason::SuperAdmin},
    {"super admin in a disabled tenant",
     [](World &w) {
         w.u.super_admin = true;
         w.t.active = false;
     },
     0, kDenied, Reason::TenantDisabled},
    {"subscription lapsed before the instant", [](World &w) { w.t.subscribed_until[0] = 400; }, 0, kDenied,
     Reason::SubscriptionExpired},
    {"membership not yet valid", [](World &w) { w.u.memberships[0].valid.from = 600; }, 0, kDenied,
     Reason::MembershipNotYetValid},
    {"membership valid since", [](World &w) { w.u.memberships[0].valid.from = 500; }, 0, kForever,
     Reason::Inherited},
    {"membership expired", [](World &w) { w.u.memberships[0].valid.until = 500; }, 0, kDenied,
     Reason::MembershipExpired},
    {"membership ends before the subscription", [](World &w) { w.u.memberships[0].valid.until = 800; }, 1,
     800, Reason::Inherited},
    {"expired membership decides before the subscription",
     [](World &w) {
         w.u.memberships[0].valid.until = 400;
         w.t.subscribed_until[0] = kDenied;
     },
     0, kDenied, Reason::MembershipExpired},
    {"grant not yet valid",
     [](World &w) {
         w.u.memberships[0].configured = true;
         w.u.memberships[0].enabled.add(0);
         w.u.memberships[0].grants.push_back(Validity{0, 600, kForever});
     },
     0, kDenied, Reason::GrantNotYetValid},
    {"grant expired",
     [](World &w) {
         w.u.memberships[0].configured = true;
         w.u.memberships[0].enabled.add(0);
         w.u.memberships[0].grants.push_back(Validity{0, kDenied, 400});
     },
     0, kDenied, Reason::GrantExpired},
    {"grant ends before the subscription",
     [](World &w) {
         w.u.memberships[0].configured = true;
         w.u.memberships[0].enabled.add(1);
         w.u.memberships[0].grants.push_back(Validity{1, 100, 900});
     },
     1, 900, Reason::Granted},
    {"another module's grant window changes nothing",
     [](World &w) {
         w.u.memberships[0].configured = true;
         w.u.memberships[0].enabled.add(0);
         w.u.memberships[0].grants.push_back(Validity{1, 600, 900});
     },
     0, kForever, Reason::Granted},
    {"lapsed subscription decides before the grants",
     [](World &w) {
         w.t.subscribed_until[0] = 400;
         w.u.memberships[0].configured = true;
     },
     0, kDenied, Reason::SubscriptionExpired},
    {"disabled user decides before everything",
     [](World &w) {
         w.u.active = false;
         w.t.active = false;
         w.u.super_admin = true;
     },
     0, kDenied, Reason::UserDisabled},
};

TEST(Rules, ModuleUntilTable)
{
    for (const Case &c : kCases) {
        World w;
        c.change(w);
        Access a = access_in(w.u, w.tenant);
        EXPECT_EQ(module_until(w.g, a, w.t, c.module, 500), c.expect) << c.name;
        Ruling r = rule(w.g, a, w.t, c.module, 500);
        EXPECT_EQ(reason_name(r.reason), std::string(reason_name(c.reason))) << c.name;
        bool allowed =
            c.reason == Reason::Inherited || c.reason == Reason::Granted || c.reason == Reason::SuperAdmin;
        EXPECT_EQ(r.allowed(500), allowed) << c.name << ": the reason and the answer agree";
        EXPECT_EQ(r.allowed(500), 500 < c.expect) << c.name << ": has_module's answer";
        EXPECT_EQ(rule(w.g, a, w.t, c.module, 0).from, r.from) << c.name << ": the window is the instant's";
        EXPECT_EQ(rule(w.g, a, w.t, c.module, 0).until, r.until) << c.name;
    }
}

TEST(Rules, PermissionFromTenantRoleOrPlatformRole)
{
    World w;
    auto holds = [&](const Uuid &tenant) {
        return modaccess::holds(w.g, Standing{access_in(w.u, tenant), TenantFacts{true, w.t.active, "T"}}, 0);
    };
    EXPECT_FALSE(holds(w.tenant));
    w.u.memberships[0].role = kTenantAdmin;
    EXPECT_TRUE(holds(w.tenant));
    EXPECT_FALSE(holds(id(9))) << "a tenant role holds only in its tenant";
    w.u.memberships[0].role = kNoRole;
    EXPECT_FALSE(holds(w.tenant)) << "a role the globals do not know grants nothing";
    w.u.memberships[0].role = kTenantAdmin;
    w.u.memberships[0].active = false;
    EXPECT_FALSE(holds(w.tenant));
    w.u.platform_role = kSuperAdmin;
    EXPECT_TRUE(holds(id(9)));
    w.t.active = false;
    EXPECT_TRUE(holds(id(9))) << "a platform role's permissions hold in a disabled tenant too";
    w.u.active = false;
    EXPECT_FALSE(holds(id(9)));
}

} // namespace
