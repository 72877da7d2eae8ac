// The authorization decision (decision.hpp) on a small world: two tenants, a tenant admin of
// A, a custom role with view/create/edit, and targets of every kind the audit used.
#include "clinres/access/decision.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace modaccess;

namespace {

Uuid id(unsigned char b)
{
    Uuid u{};
    u.bytes[15] = b;
    return u;
}

const Uuid kA = id(1), kB = id(2);
// Permissions (sorted): user:create, user:delete, user:edit, user:view.
constexpr int kCreate = 0, kDelete = 1, kEdit = 2, kView = 3;
// Roles (sorted): EDITOR (view, create, edit), SUPER_ADMIN, TENANT_ADMIN, USER.
constexpr RoleId kEditor = 0, kSuper = 1, kAdmin = 2, kUser = 3;

struct World {
    Globals g;
    std::map<std::pair<unsigned char, unsigned char>, Standing> standing; // (actor, tenant)
    std::map<unsigned char, TenantFacts> tenants;

    World()
    {
        g.permissions = {"user:create", "user:delete", "user:edit", "user:view"};
        for (int i = 0; i < 4; ++i)
            g.permission_index[g.permissions[i]] = i;
        g.roles = {"EDITOR", "SUPER_ADMIN", "TENANT_ADMIN", "USER"};
        for (RoleId r = 0; r < 4; ++r)
            g.role_index[g.roles[r]] = r;
        g.role_is_platform = {false, true, false, false};
        g.role_permissions = {{true, false, true, true},
                              {true, true, true, true},
                              {true, true, true, true},
                              {false, false, false, false}};
        tenants[1] = TenantFacts{true, true, "A"};
        tenants[2] = TenantFacts{true, true, "B"};
    }

    // The actor's standing: a member of tenant with role (kNoRole: none), or a platform role.
    Facts facts(unsigned char actor, std::map<unsigned char, RoleId> roles, RoleId platform = kNoRole,
                bool active = true)
    {
        return Facts{g, id(actor), [this, roles, platform, active](const Uuid &t) {
                         Standing s;
                         s.access.user_active = active;
                         s.access.platform_role = platform;
                         s.access.super_admin = platform == kSuper;
                         auto it = roles.find(t.bytes[15]);
                         if (it != roles.end()) {
                             s.access.member = true;
                             s.access.role = it->second;
                         }
                         auto tf = tenants.find(t.bytes[15]);
                         if (tf != tenants.end())
                             s.tenant = tf->second;
                         return s;
                     }};
    }
};

// A target with memberships (tenant id byte -> role).
Target target(unsigned char who, std::map<unsigned char, RoleId> roles, RoleId platform = kNoRole)
{
    Target t;
    t.id = id(who);
    t.exists = true;
    t.platform_role = platform;
    for (auto [tenant, role] : roles) {
        MemberFacts m;
        m.tenant = id(tenant);
        m.role = role;
        m.active = true;
        t.memberships.push_back(m);
    }
    return t;
}

TEST(Decision, AccountVerbsNeedTheCeilingInEveryTenant)
{
    World w;
    Facts editor = w.facts(10, {{1, kEditor}});
    Target admin_of_a = target(20, {{1, kAdmin}});
    for (Verb v : {Verb::Update, Verb::Password, Verb::Disable})
        EXPECT_EQ(decide(editor, v, nullptr, &admin_of_a, kNoRole).kind, "role") << "finding 1";
    Target user_of_a = target(21, {{1, kUser}});
    EXPECT_FALSE(decide(editor, Verb::Update, nullptr, &user_of_a, kNoRole).refused);
    Target user_of_a_and_b = target(22, {{1, kUser}, {2, kUser}});
    Denial d = decide(editor, Verb::Update, nullptr, &user_of_a_and_b, kNoRole);
    EXPECT_TRUE(d.refused);
    EXPECT_EQ(d.what, "user:edit");
}

TEST(Decision, DeleteNeedsDeleteAndTheCeiling)
{
    World w;
    w.g.roles[kEditor] = "EDITOR";
    w.g.role_permissions[kEditor] = {false, true, false, true}; // view + delete
    Facts deleter = w.facts(10, {{1, kEditor}});
    Target admin_of_a = target(20, {{1, kAdmin}});
    EXPECT_EQ(decide(deleter, Verb::Delete, nullptr, &admin_of_a, kNoRole).kind, "role");
    EXPECT_EQ(decide(deleter, Verb::Remove, &kA, &admin_of_a, kNoRole).kind, "role");
}

TEST(Decision, NobodyTakesOverAUserItCannotSee)
{
    World w;
    Facts admin = w.facts(10, {{1, kAdmin}});
    Target of_b = target(30, {{2, kUser}});
    Target of_none = target(31, {});
    EXPECT_EQ(decide(admin, Verb::Add, &kA, &of_b, kUser).what, "user:view") << "finding 3";
    EXPECT_EQ(decide(admin, Verb::Add, &kA, &of_none, kUser).what, "user:view");
    EXPECT_TRUE(decide(admin, Verb::Password, nullptr, &of_none, kNoRole).refused);
    of_none.former_tenants.push_back(kA);
    EXPECT_FALSE(decide(admin, Verb::Add, &kA, &of_none, kUser).refused)
        << "the tenant that removed it adds it back";
    EXPECT_TRUE(decide(admin, Verb::Add, &kB, &of_none, kUser).refused);
}

TEST(Decision, SelfPlatformRolesAndGrants)
{
    World w;
    Facts admin = w.facts(10, {{1, kAdmin}});
    Target me = target(10, {{1, kAdmin}});
    EXPECT_EQ(decide(admin, Verb::Delete, nullptr, &me, kNoRole).kind, "self");
    EXPECT_EQ(decide(admin, Verb::Role, &kA, &me, kUser).kind, "self");
    EXPECT_FALSE(decide(admin, Verb::Update, nullptr, &me, kNoRole).refused);
    Target super = target(40, {{1, kAdmin}}, kSuper);
    EXPECT_EQ(decide(admin, Verb::Password, nullptr, &super, kNoRole).kind, "role");
    EXPECT_EQ(decide(admin, Verb::Create, &kA, nullptr, kSuper).kind, "role");
    EXPECT_FALSE(decide(admin, Verb::Create, &kA, nullptr, kAdmin).refused);
    Facts editor = w.facts(11, {{1, kEditor}});
    EXPECT_EQ(decide(editor, Verb::Create, &kA, nullptr, kAdmin).kind, "role");
}

TEST(Decision, DisabledTenantsAndActors)
{
    World w;
    w.tenants[1].active = false;
    Facts admin = w.facts(10, {{1, kAdmin}});
    Facts super = w.facts(11, {}, kSuper);
    EXPECT_TRUE(decide(admin, Verb::List, &kA, nullptr, kNoRole).refused);
    EXPECT_TRUE(decide(admin, Verb::Context, &kA, nullptr, kNoRole).refused);
    EXPECT_FALSE(decide(super, Verb::List, &kA, nullptr, kNoRole).refused)
        << "a SUPER_ADMIN manages a disabled tenant";
    Facts disabled_super = w.facts(12, {}, kSuper, false);
    EXPECT_TRUE(decide(disabled_super, Verb::List, nullptr, nullptr, kNoRole).refused);
}

TEST(Decision, SessionsNeedEditAndTheCeilingInTheSessionsTenant)
{
    World w;
    Facts editor = w.facts(10, {{1, kEditor}});
    Target user_of_a_and_b = target(21, {{1, kUser}, {2, kUser}});
    EXPECT_FALSE(decide(editor, Verb::Sessions, &kA, &user_of_a_and_b, kNoRole).refused);
    EXPECT_EQ(decide(editor, Verb::Sessions, &kB, &user_of_a_and_b, kNoRole).what, "user:edit")
        << "not in a tenant where the actor does not hold user:edit";
    EXPECT_FALSE(decide(editor, Verb::Sessions, nullptr, &user_of_a_and_b, kNoRole).refused)
        << "any tenant of the user will do when none is given";
    Target admin_of_a = target(20, {{1, kAdmin}});
    EXPECT_EQ(decide(editor, Verb::Sessions, &kA, &admin_of_a, kNoRole).kind, "role") << "the grant ceiling";
    EXPECT_EQ(decide(editor, Verb::Sessions, nullptr, &admin_of_a, kNoRole).kind, "role");
    Facts viewer = w.facts(11, {{1, kUser}});
    EXPECT_TRUE(decide(viewer, Verb::Sessions, nullptr, &user_of_a_and_b, kNoRole).refused);
    Target me = target(11, {{1, kUser}});
    EXPECT_FALSE(decide(viewer, Verb::Sessions, nullptr, &me, kNoRole).refused) << "one's own sessions";
    EXPECT_FALSE(decide(viewer, Verb::Sessions, &kB, &me, kNoRole).refused);
    Target super = target(40, {}, kSuper);
    EXPECT_TRUE(decide(w.facts(12, {{1, kAdmin}}), Verb::Sessions, &kA, &super, kNoRole).refused)
        << "only a SUPER_ADMIN manages a SUPER_ADMIN's sessions";
    Facts super_actor = w.facts(13, {}, kSuper);
    EXPECT_FALSE(decide(super_actor, Verb::Sessions, &kA, &super, kNoRole).refused);
    Target nobody = target(50, {});
    EXPECT_TRUE(decide(editor, Verb::Sessions, nullptr, &nobody, kNoRole).refused);
}

TEST(Decision, ExplainOneselfOrAMemberWithView)
{
    World w;
    Facts user = w.facts(10, {{1, kUser}});
    Target me = target(10, {{1, kUser}});
    EXPECT_FALSE(decide(user, Verb::Explain, &kB, &me, kNoRole).refused) << "oneself, in any tenant";
    Target other = target(20, {{1, kUser}});
    EXPECT_EQ(decide(user, Verb::Explain, &kA, &other, kNoRole).kind, "permission");
    Facts admin = w.facts(11, {{1, kAdmin}});
    EXPECT_FALSE(decide(admin, Verb::Explain, &kA, &other, kNoRole).refused);
    other.memberships[0].active = false;
    EXPECT_FALSE(decide(admin, Verb::Explain, &kA, &other, kNoRole).refused) << "a disabled member";
    Target of_b = target(21, {{2, kUser}});
    EXPECT_TRUE(decide(admin, Verb::Explain, &kA, &of_b, kNoRole).refused)
        << "a user of another tenant is not revealed";
    of_b.former_tenants.push_back(kA);
    EXPECT_FALSE(decide(admin, Verb::Explain, &kA, &of_b, kNoRole).refused) << "a former member";
    EXPECT_TRUE(decide(admin, Verb::Explain, &kB, &other, kNoRole).refused) << "no user:view in B";
    Facts super = w.facts(12, {}, kSuper);
    Target nobody = target(22, {});
    EXPECT_FALSE(decide(super, Verb::Explain, &kB, &nobody, kNoRole).refused);
    Facts disabled_admin = w.facts(13, {{1, kAdmin}}, kNoRole, false);
    EXPECT_TRUE(decide(disabled_admin, Verb::Explain, &kA, &other, kNoRole).refused);
}

TEST(Decision, VerbNames)
{
    EXPECT_EQ(verb_named("sessions"), Verb::Sessions);
    EXPECT_EQ(verb_named("disable_member"), Verb::DisableMember);
    EXPECT_EQ(verb_named("validity"), Verb::Validity);
    EXPECT_EQ(verb_named("explain"), Verb::Explain);
    EXPECT_FALSE(verb_named("Delete").has_value());
}

} // namespace

TEST(Decision, OnlyASuperAdminErasesAndNeverThemselves)
{
    World w;
    Facts super = w.facts(11, {}, kSuper);
    Facts admin = w.facts(10, {{1, kAdmin}});
    Facts disabled_super = w.facts(12, {}, kSuper, false);
    Target member = target(20, {{1, kUser}});
    Target deleted = target(21, {});
    deleted.exists = false;
    Target self = target(11, {}, kSuper);
    EXPECT_FALSE(decide(super, Verb::Erase, nullptr, &member, kNoRole).refused);
    EXPECT_FALSE(decide(super, Verb::Erase, nullptr, &deleted, kNoRole).refused)
        << "a deleted user's trail rows";
    EXPECT_EQ(decide(super, Verb::Erase, nullptr, &self, kNoRole).kind, "self");
    EXPECT_EQ(decide(admin, Verb::Erase, nullptr, &member, kNoRole).what, "erase")
        << "a tenant admin may not";
    EXPECT_TRUE(decide(disabled_super, Verb::Erase, nullptr, &member, kNoRole).refused);
    EXPECT_EQ(verb_named("erase"), Verb::Erase);
}
