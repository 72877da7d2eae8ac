// Key doorbells: buckets and their pseudo relation ids round-trip, the heard set, and
// what a transaction rings (once per key per command, the kind's beyond the cap, again
// after a subtransaction rolls back).
#include "clinres/access/key_bells.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

using namespace modaccess::key_bells;

namespace {

clinres::Uuid key(uint32_t n)
{
    clinres::Uuid u{};
    std::memcpy(u.bytes, &n, sizeof n);
    u.bytes[15] = 0x5a;
    return u;
}

TEST(KeyBells, RelidsRoundTripAndStayAtTheTop)
{
    for (Kind kind : {Kind::User, Kind::Tenant})
        for (uint32_t b : {0u, 1u, kBuckets / 2, kBuckets - 1}) {
            uint32_t relid = relid_of(kind, b);
            EXPECT_GE(relid, kFirstRelid);
            Kind k;
            uint32_t bucket;
            ASSERT_TRUE(from_relid(relid, k, bucket));
            EXPECT_EQ(k, kind);
            EXPECT_EQ(bucket, b);
        }
    EXPECT_EQ(relid_of(Kind::Tenant, kBuckets - 1), UINT32_MAX);
    Kind k;
    uint32_t bucket;
    EXPECT_FALSE(from_relid(kFirstRelid - 1, k, bucket));
    EXPECT_FALSE(from_relid(16384, k, bucket)) << "an ordinary relation";
}

TEST(KeyBells, KeysSpreadOverTheBuckets)
{
    std::set<uint32_t> used;
    for (uint32_t n = 0; n < 10000; ++n)
        used.insert(bucket_of(key(n)));
    // 10,000 keys in 32,768 buckets: about 8,600 distinct if spread at random.
    EXPECT_GT(used.size(), 8300u);
}

TEST(KeyBells, EveryByteOfAKeyMovesItsBucket)
{
    // Ids that differ in one byte only, as hand-made ones do (...-0000000000b0, ...-0000000000a1).
    for (int byte = 0; byte < 16; ++byte) {
        std::set<uint32_t> used;
        for (int v = 0; v < 256; ++v) {
            clinres::Uuid u{};
            u.bytes[byte] = static_cast<uint8_t>(v);
            used.insert(bucket_of(u));
        }
        EXPECT_GT(used.size(), 250u) << "byte " << byte;
    }
}

TEST(KeyBells, HeardCountsDistinctBuckets)
{
    Heard h;
    h.add(5);
    h.add(5);
    h.add(kBuckets - 1);
    EXPECT_EQ(h.count(), 2u);
    EXPECT_TRUE(h.has(5));
    EXPECT_FALSE(h.has(6));
    h.clear();
    EXPECT_EQ(h.count(), 0u);
    EXPECT_FALSE(h.has(5));
}

TEST(KeyBells, AKeyRingsOncePerCommand)
{
    Ringer r;
    EXPECT_EQ(r.change(Kind::User, 7, 1), Ring::Key);
    EXPECT_EQ(r.change(Kind::User, 7, 1), Ring::Nothing);
    EXPECT_EQ(r.change(Kind::Tenant, 7, 1), Ring::Key) << "another kind, another doorbell";
    EXPECT_EQ(r.change(Kind::User, 7, 2), Ring::Key) << "a later command changes it again";
}

TEST(KeyBells, ABigWriteRingsTheKind)
{
    Ringer r;
    for (uint32_t b = 0; b < kMaxPerTransaction; ++b)
        ASSERT_EQ(r.change(Kind::User, b, 1), Ring::Key);
    EXPECT_EQ(r.change(Kind::User, kMaxPerTransaction, 1), Ring::Kind);
    EXPECT_EQ(r.change(Kind::User, kMaxPerTransaction + 1, 1), Ring::Nothing);
    EXPECT_EQ(r.change(Kind::Tenant, 0, 1), Ring::Kind) << "the cap is the transaction's";
    EXPECT_EQ(r.change(Kind::User, 0, 2), Ring::Kind) << "once per command";
    r.end_transaction();
    EXPECT_EQ(r.change(Kind::User, 0, 1), Ring::Key);
}

TEST(KeyBells, ARolledBackSubtransactionRingsAgain)
{
    Ringer r;
    EXPECT_EQ(r.change(Kind::User, 3, 4), Ring::Key);
    r.subtransaction_aborted();
    EXPECT_EQ(r.change(Kind::User, 3, 4), Ring::Key);
    for (uint32_t b = 0; b < kMaxPerTransaction; ++b)
        r.change(Kind::User, 100 + b, 4);
    r.subtransaction_aborted();
    EXPECT_EQ(r.change(Kind::User, 9999, 4), Ring::Kind) << "the count survives: it only overestimates";
}

} // namespace
