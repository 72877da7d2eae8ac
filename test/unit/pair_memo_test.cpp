// PairMemo, has_module's per-call-site answers: the last answer alone at first, a table
// sized by counting the pairs of a scan that repeats them, none for a scan that does
// not, growth, answers scoped to their epoch, and the strong guarantee when allocating fails.
#include "clinres/access/pair_memo.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

using namespace modaccess;
using namespace modaccess::memo_tuning;

namespace {

// Allocations left before the next one throws std::bad_alloc (-1: no limit); bytes held.
int allocations_left = -1;
long long bytes_held = 0;

// calloc/free, failing on demand, counting what is held.
struct TestAlloc {
    void *zeroed(size_t bytes)
    {
        if (allocations_left == 0)
            throw std::bad_alloc();
        if (allocations_left > 0)
            --allocations_left;
        auto *p = static_cast<size_t *>(std::calloc(1, bytes + sizeof(size_t)));
        *p = bytes;
        bytes_held += static_cast<long long>(bytes);
        return p + 1;
    }
    void release(void *p)
    {
        size_t *h = static_cast<size_t *>(p) - 1;
        bytes_held -= static_cast<long long>(*h);
        std::free(h);
    }
};

using Memo = PairMemo<TestAlloc>;

// The n-th of a family of distinct pairs.
Key pair(uint32_t n)
{
    Key k{};
    std::memcpy(k.user.bytes, &n, sizeof n);
    uint32_t t = n % 97;
    std::memcpy(k.tenant.bytes + 4, &t, sizeof t);
    k.user.bytes[15] = 0x5a;
    return k;
}

// One row of a scan: the memo's answer, or (as has_module does) a miss, then the answer stored.
bool row(Memo &m, const Key &k, uint64_t epoch)
{
    if (m.find(k, epoch) != nullptr)
        return true;
    m.missed(k);
    m.store(Decision{k, epoch, 42});
    return false;
}

// Rows answered by the memo in `rows` rows cycling through `pairs` pairs.
uint64_t scan(Memo &m, uint32_t pairs, uint64_t rows, uint64_t epoch = 1)
{
    uint64_t hits = 0;
    for (uint64_t r = 0; r < rows; ++r)
        hits += row(m, pair(static_cast<uint32_t>(r % pairs)), epoch);
    return hits;
}

class PairMemoTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        allocations_left = -1;
        bytes_held = 0; // memos have no destructor: their memory goes with the context
    }
    void TearDown() override { allocations_left = -1; }
};

TEST_F(PairMemoTest, AnswersTheLastPairWithoutATable)
{
    Memo m{TestAlloc{}};
    EXPECT_EQ(m.find(pair(1), 1), nullptr);
    m.store(Decision{pair(1), 1, 7});
    ASSERT_NE(m.find(pair(1), 1), nullptr);
    EXPECT_EQ(m.find(pair(1), 1)->until, 7);
    EXPECT_EQ(m.find(pair(2), 1), nullptr);
    m.store(Decision{pair(2), 1, 8});
    EXPECT_EQ(m.find(pair(1), 1), nullptr) << "one entry without a table";
    EXPECT_EQ(m.table_size(), 0u);
}

TEST_F(PairMemoTest, AnswersBelongToTheirEpoch)
{
    Memo m{TestAlloc{}};
    m.store(Decision{pair(1), 5, 7});
    EXPECT_EQ(m.find(pair(1), 6), nullptr) << "a new statement or snapshot asks again";
    scan(m, 1000, 20000, 5);
    ASSERT_GT(m.table_size(), 0u);
    EXPECT_NE(m.find(pair(3), 5), nullptr);
    EXPECT_EQ(m.find(pair(3), 6), nullptr);
}

TEST_F(PairMemoTest, FewMissesMakeNoTable)
{
    Memo m{TestAlloc{}};
    scan(m, 100, kFewMisses);
    EXPECT_EQ(m.table_size(), 0u);
    EXPECT_EQ(bytes_held, 0) << "not even the sketch";
}

TEST_F(PairMemoTest, RepeatedPairsGetATableSizedForThem)
{
    Memo m{TestAlloc{}};
    scan(m, 1000, kFewMisses + kFirstCount);
    // Counted at kFirstCount misses: ~1000 distinct, four times that rounded up.
    EXPECT_EQ(m.table_size(), 4096u);
    EXPECT_EQ(bytes_held, static_cast<long long>(4096 * sizeof(Decision))) << "the sketch is freed";
    scan(m, 1000, 1000); // fills it
    // A 2-way set that three of the pairs share misses them on every cycle: about 1 pair in 10.
    EXPECT_GT(scan(m, 1000, 10000), 8500u);
}

TEST_F(PairMemoTest, TooManyPairsGiveUp)
{
    Memo m{TestAlloc{}};
    scan(m, 1000000, kFewMisses + kLastCount);
    EXPECT_TRUE(m.gave_up());
    EXPECT_EQ(m.table_size(), 0u);
    EXPECT_EQ(bytes_held, 0);
    scan(m, 1000, 100000);
    EXPECT_EQ(m.table_size(), 0u) << "no table until reset";
    m.reset(false);
    EXPECT_FALSE(m.gave_up());
    scan(m, 1000, kFewMisses + kFirstCount);
    EXPECT_GT(m.table_size(), 0u);
}

TEST_F(PairMemoTest, PairsThatNeverRepeatGetNoTableAtTheLastCount)
{
    Memo m{TestAlloc{}};
    // 20,000 distinct pairs, each seen once: below half the largest table, so the last count decides.
    scan(m, 20000, kFewMisses + kLastCount);
    EXPECT_FALSE(m.gave_up());
    EXPECT_EQ(m.table_size(), kMaxDecisions) << "the last count always chooses";
}

TEST_F(PairMemoTest, ATableGrowsWhenItMissesMoreThanItHolds)
{
    Memo m{TestAlloc{}};
    scan(m, 500, kFewMisses + kFirstCount);
    uint32_t first = m.table_size();
    ASSERT_EQ(first, 2048u);
    scan(m, 8000, 3 * 8000);
    EXPECT_GE(m.table_size(), 4 * first);
    EXPECT_GT(scan(m, 8000, 8000), 7000u);
}

TEST_F(PairMemoTest, AFullTableThatRarelyAnswersIsDropped)
{
    Memo m{TestAlloc{}};
    scan(m, 20000, kFewMisses + kLastCount);
    ASSERT_EQ(m.table_size(), kMaxDecisions);
    // Then pairs that are all new: the table answers nothing.
    for (uint64_t r = 0; r < kJudgeTables * kMaxDecisions; ++r)
        row(m, pair(static_cast<uint32_t>(100000 + r)), 1);
    EXPECT_TRUE(m.gave_up());
    EXPECT_EQ(bytes_held, 0);
}

TEST_F(PairMemoTest, AFullTableThatAnswersIsKept)
{
    Memo m{TestAlloc{}};
    scan(m, 20000, kFewMisses + kLastCount);
    ASSERT_EQ(m.table_size(), kMaxDecisions);
    EXPECT_GT(scan(m, 20000, kJudgeTables * kMaxDecisions * 2), 0u);
    EXPECT_FALSE(m.gave_up());
    EXPECT_EQ(m.table_size(), kMaxDecisions);
}

TEST_F(PairMemoTest, AFailedAllocationChangesNothing)
{
    Memo m{TestAlloc{}};
    scan(m, 1000, kFewMisses + kFirstCount - 1);
    ASSERT_EQ(m.table_size(), 0u);
    long long held = bytes_held;
    allocations_left = 0;
    EXPECT_THROW(row(m, pair(5000), 1), std::bad_alloc);
    EXPECT_EQ(m.table_size(), 0u);
    EXPECT_EQ(bytes_held, held);
    allocations_left = -1;
    row(m, pair(5001), 1); // the same count again, now with memory
    EXPECT_GT(m.table_size(), 0u);
    m.reset(false);
    EXPECT_EQ(bytes_held, 0);
}

} // namespace
