// The packed answers of a pair against the rules they were packed from: the same answer for
// every module at instants before, at and after each subscription end; the cases that do not
// pack; and the fingerprint that tells one set of globals from another.
#include "clinres/access/pair_answers.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace modaccess;

namespace {

// A random world of `modules` modules: a user's access in a tenant without validities.
struct World {
    Globals g;
    Access a;
    TenantEntry t;
};

World random_world(std::mt19937_64 &rng, int modules, int64_t end, int64_t ended)
{
    World w;
    w.g.modules.resize(modules);
    for (Module &m : w.g.modules)
        m.active = rng() % 6 != 0;
    w.a.user_active = rng() % 8 != 0;
    w.a.super_admin = rng() % 10 == 0;
    w.a.member = rng() % 5 != 0;
    for (int m = 0; m < modules; ++m)
        if (rng() % 3 != 0)
            w.a.enabled.add(m);
    w.t.exists = true;
    w.t.active = rng() % 8 != 0;
    for (int m = 0; m < modules; ++m) {
        int pick = static_cast<int>(rng() % 4);
        w.t.subscribed_until.push_back(pick == 0 ? kDenied : pick == 1 ? kForever : pick == 2 ? end : ended);
    }
    return w;
}

TEST(PairAnswers, AnswerAsTheRulesDoAtEveryInstant)
{
    std::mt19937_64 rng(24);
    for (int round = 0; round < 2000; ++round) {
        int modules = 1 + static_cast<int>(rng() % 64);
        World w = random_world(rng, modules, 1000, 300 + static_cast<int64_t>(rng() % 2) * 100);
        PairAnswers p;
        ASSERT_TRUE(pack_answers(w.g, w.a, w.t, 500, p));
        ASSERT_TRUE(p.answers_at(500));
        int answered = 0;
        for (int64_t now : {kDenied + 1, int64_t(-5), int64_t(300), int64_t(399), int64_t(400), int64_t(999),
                            int64_t(1000), int64_t(1001), kForever - 1}) {
            if (!p.answers_at(now))
                continue;
            ++answered;
            for (int m = 0; m < modules; ++m)
                ASSERT_EQ(p.until_at(m, now), module_until(w.g, w.a, w.t, m, now))
                    << "round " << round << ", module " << m << ", at " << now;
        }
        ASSERT_GE(answered, 5);
    }
}

TEST(PairAnswers, RefuseWhatDoesNotFit)
{
    World w;
    w.g.modules.resize(2);
    w.g.modules[0].active = w.g.modules[1].active = true;
    w.a.user_active = w.a.member = true;
    w.a.enabled = ModuleSet::all();
    w.t.active = true;
    w.t.subscribed_until = {1000, 2000};
    PairAnswers p;
    EXPECT_FALSE(pack_answers(w.g, w.a, w.t, 500, p)) << "two subscription ends";
    w.t.subscribed_until = {1000, 1000};
    EXPECT_TRUE(pack_answers(w.g, w.a, w.t, 500, p));
    w.t.subscribed_until = {400, 1000};
    ASSERT_TRUE(pack_answers(w.g, w.a, w.t, 500, p)) << "an ended subscription and one that ends later";
    EXPECT_EQ(p.from, 400) << "before the end, the ended one held: not answered";
    EXPECT_EQ(p.until_at(0, 400), kDenied);
    EXPECT_EQ(p.until_at(1, 400), 1000);
    w.a.valid.from = 100;
    EXPECT_FALSE(pack_answers(w.g, w.a, w.t, 500, p)) << "a membership that starts later";
    w.a.valid.from = kDenied;
    w.g.modules.resize(65);
    w.t.subscribed_until.resize(65, kForever);
    EXPECT_FALSE(pack_answers(w.g, w.a, w.t, 500, p)) << "more than 64 modules";
}

TEST(PairAnswers, FingerprintTellsGlobalsApart)
{
    Globals g;
    g.modules.resize(3);
    g.modules[0].code = "aia";
    g.modules[1].code = "pkb";
    g.modules[2].code = "dc";
    g.roles = {"SUPER_ADMIN", "USER"};
    g.role_is_platform = {true, false};
    g.role_permissions = {{true}, {false}};
    g.permissions = {"user:view"};
    Globals same = g;
    EXPECT_EQ(globals_fingerprint(g), globals_fingerprint(same));
    Globals other = g;
    other.modules[1].active = true;
    EXPECT_NE(globals_fingerprint(g), globals_fingerprint(other)) << "a module activated";
    other = g;
    std::swap(other.modules[0], other.modules[1]);
    EXPECT_NE(globals_fingerprint(g), globals_fingerprint(other)) << "modules in another order";
    other = g;
    other.role_permissions[1][0] = true;
    EXPECT_NE(globals_fingerprint(g), globals_fingerprint(other)) << "a role granted a permission";
    EXPECT_NE(globals_fingerprint(g), 0u);
}

} // namespace
