// The packed user entry against the facts it was packed from: the same access in every
// tenant, inline and on the heap, narrow and wide module sets, after moves; and the
// tenant ids that name the tenants.
#include "clinres/access/tenant_ids.hpp"
#include "clinres/access/user_entry.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace modaccess;

namespace {

Uuid tenant(uint64_t n)
{
    Uuid u{};
    std::memcpy(u.bytes + 8, &n, sizeof n);
    return u;
}

// Expects a and b to give the same answers for modules 0..modules-1.
void expect_same(const Access &a, const Access &b, int modules, const std::string &what)
{
    EXPECT_EQ(a.user_active, b.user_active) << what;
    EXPECT_EQ(a.super_admin, b.super_admin) << what;
    EXPECT_EQ(a.platform_role, b.platform_role) << what;
    EXPECT_EQ(a.member, b.member) << what;
    if (a.member && b.member) {
        EXPECT_EQ(a.role, b.role) << what;
        for (int k = 0; k < modules; ++k)
            EXPECT_EQ(a.enabled.has(k), b.enabled.has(k)) << what << ", module " << k;
    }
}

// A random user of up to `most` memberships in tenants 0..19, with modules 0..modules-1.
UserFacts random_user(std::mt19937_64 &rng, size_t most, int modules)
{
    UserFacts u;
    u.active = rng() % 5 != 0;
    u.super_admin = rng() % 7 == 0;
    u.platform_role = rng() % 3 == 0 ? static_cast<RoleId>(rng() % 4) : kNoRole;
    std::vector<uint64_t> tenants(20);
    for (size_t i = 0; i < tenants.size(); ++i)
        tenants[i] = i;
    std::shuffle(tenants.begin(), tenants.end(), rng);
    size_t n = rng() % (most + 1);
    for (size_t i = 0; i < n; ++i) {
        MemberFacts m;
        m.tenant = tenant(tenants[i]);
        m.role = rng() % 5 == 0 ? kNoRole : static_cast<RoleId>(rng() % 4);
        m.active = rng() % 4 != 0;
        m.configured = rng() % 2 == 0;
        for (int k = 0; k < modules; ++k)
            if (rng() % 2)
                m.enabled.add(k);
        u.memberships.push_back(m);
    }
    return u;
}

// Packs u with ids from ids.
UserEntry pack(const UserFacts &u, TenantIds<> &ids, bool wide)
{
    std::vector<uint32_t> tenant_ids;
    for (const MemberFacts &m : u.memberships)
        tenant_ids.push_back(ids.intern(m.tenant));
    return UserEntry(u, tenant_ids, wide);
}

// Every random user answers, packed, as its facts do, in every tenant and an unknown one.
TEST(UserEntry, PackedAnswersAsTheFacts)
{
    std::mt19937_64 rng(12);
    for (int modules : {8, 64, 100}) {
        bool wide = modules > 64;
        for (size_t most : {size_t(3), size_t(9)}) {
            TenantIds<> ids;
            for (int i = 0; i < 300; ++i) {
                UserFacts u = random_user(rng, most, modules);
                UserEntry e = pack(u, ids, wide);
                std::string what = std::to_string(modules) + " modules, user " + std::to_string(i);
                for (uint64_t t = 0; t < 20; ++t)
                    expect_same(e.access_in(ids.find(tenant(t))), access_in(u, tenant(t)), modules, what);
                expect_same(e.access_in(TenantIds<>::npos), access_in(u, tenant(99)), modules, what);
                UserEntry moved(std::move(e));
                UserEntry assigned = pack(random_user(rng, most, modules), ids, wide);
                assigned = std::move(moved);
                for (uint64_t t = 0; t < 20; ++t)
                    expect_same(assigned.access_in(ids.find(tenant(t))), access_in(u, tenant(t)), modules,
                                what + " moved");
            }
        }
    }
}

// Up to kInline active memberships with at most 64 modules live inline; more, or wide sets, on the heap.
TEST(UserEntry, InlineUntilTheHeapIsNeeded)
{
    TenantIds<> ids;
    UserFacts u;
    u.active = true;
    for (uint64_t t = 0; t < UserEntry::kInline; ++t)
        u.memberships.push_back(MemberFacts{tenant(t), 1, true, false, {}, {}, {}});
    u.memberships.push_back(MemberFacts{tenant(50), 1, false, false, {}, {}, {}}); // inactive: left out
    EXPECT_EQ(pack(u, ids, false).heap_bytes(), 0u);
    EXPECT_GT(pack(u, ids, true).heap_bytes(), 0u);
    u.memberships.push_back(MemberFacts{tenant(60), 1, true, false, {}, {}, {}});
    UserEntry e = pack(u, ids, false);
    EXPECT_GT(e.heap_bytes(), 0u);
    EXPECT_TRUE(e.access_in(ids.find(tenant(60))).member);
    EXPECT_FALSE(e.access_in(ids.find(tenant(50))).member);
    EXPECT_LE(sizeof(UserEntry), 56u);
}

// Tenant ids are 0, 1, 2, ... in order of first sight, stable, and gone after clear.
TEST(TenantIds, InternFindAndClear)
{
    TenantIds<> ids;
    for (uint64_t t = 0; t < 1000; ++t)
        ASSERT_EQ(ids.intern(tenant(t * 7)), t);
    for (uint64_t t = 0; t < 1000; ++t) {
        ASSERT_EQ(ids.find(tenant(t * 7)), t);
        ASSERT_EQ(ids.intern(tenant(t * 7)), t);
    }
    EXPECT_EQ(ids.find(tenant(1)), TenantIds<>::npos);
    EXPECT_EQ(ids.size(), 1000u);
    ids.clear();
    EXPECT_EQ(ids.find(tenant(7)), TenantIds<>::npos);
    EXPECT_EQ(ids.intern(tenant(7)), 0u);
}

} // namespace
