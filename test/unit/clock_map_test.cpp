// ClockMap, the access cache's storage: lookups, replacement, CLOCK eviction, the
// backward-shift erase of its open-addressing index, values that own memory moving
// between slots, and the strong guarantee of put.
#include "clinres/access/clock_map.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

using namespace modaccess;

namespace {

// Allocations left before the next one throws std::bad_alloc (-1: no limit).
int allocations_left = -1;

// An allocator that fails when allocations_left reaches zero.
template <typename T> struct Flaky {
    using value_type = T;
    Flaky() = default;
    template <typename U> Flaky(const Flaky<U> &) {}
    T *allocate(size_t n)
    {
        if (allocations_left == 0)
            throw std::bad_alloc();
        if (allocations_left > 0)
            --allocations_left;
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T *p, size_t n) { std::allocator<T>().deallocate(p, n); }
    bool operator==(const Flaky &) const { return true; }
    bool operator!=(const Flaky &) const { return false; }
};

using Map = ClockMap<int>;
using FlakyMap = ClockMap<int, Flaky<char>>;

// What a string owns on the heap (ClockMap's HeapBytes).
struct StringHeap {
    size_t operator()(const std::string &s) const { return s.capacity() > 15 ? s.capacity() : 0; }
};

bool always(uint64_t)
{
    return true;
}

Uuid key(uint64_t n)
{
    Uuid u{};
    std::memcpy(u.bytes, &n, sizeof n);
    u.bytes[15] = 0x5a;
    return u;
}

// Keys whose home bucket, in an index of `table` buckets, is `home`.
std::vector<Uuid> keys_at(size_t home, size_t table, size_t count, uint64_t from = 1)
{
    std::vector<Uuid> out;
    for (uint64_t n = from; out.size() < count; ++n)
        if ((UuidHash()(key(n)) & (table - 1)) == home)
            out.push_back(key(n));
    return out;
}

template <typename M> void put(M &map, const Uuid &k, int v, size_t capacity)
{
    map.put(k, 0, int(v), capacity);
}

template <typename M> int value(M &map, const Uuid &k)
{
    const int *p = map.peek(k, always);
    return p ? *p : -1;
}

TEST(ClockMap, InsertFindAndReplace)
{
    Map map;
    for (int i = 0; i < 1000; ++i)
        put(map, key(i), i, 10000);
    EXPECT_EQ(map.size(), 1000u);
    for (int i = 0; i < 1000; ++i)
        ASSERT_EQ(value(map, key(i)), i);
    EXPECT_EQ(map.peek(key(5000), always), nullptr);
    put(map, key(7), 70, 10000);
    EXPECT_EQ(value(map, key(7)), 70);
    EXPECT_EQ(*map.peek(key(7), always), 70);
    EXPECT_EQ(map.size(), 1000u);
    EXPECT_EQ(map.evictions(), 0u);
}

TEST(ClockMap, ScopeDecidesWhetherAnEntryAnswers)
{
    Map map;
    map.put(key(1), 42, 1, 10);
    EXPECT_EQ(map.peek(key(1), [](uint64_t s) { return s == 41; }), nullptr);
    EXPECT_EQ(*map.peek(key(1), [](uint64_t s) { return s == 42; }), 1);
    map.put(key(1), 43, 2, 10); // replacing an entry replaces its scope too
    EXPECT_EQ(map.peek(key(1), [](uint64_t s) { return s == 42; }), nullptr);
    EXPECT_EQ(*map.peek(key(1), [](uint64_t s) { return s == 43; }), 2);
}

TEST(ClockMap, ClockEvictsTheFirstUnreferencedEntry)
{
    Map map;
    put(map, key(1), 1, 3);
    put(map, key(2), 2, 3);
    put(map, key(3), 3, 3);
    // Every entry was referenced when stored: the hand clears all three, then takes 1.
    put(map, key(4), 4, 3);
    EXPECT_EQ(value(map, key(1)), -1);
    EXPECT_EQ(map.evictions(), 1u);
    // 2 is used again, so the next victim is 3.
    map.peek(key(2), always);
    put(map, key(5), 5, 3);
    EXPECT_EQ(value(map, key(2)), 2);
    EXPECT_EQ(value(map, key(3)), -1);
    EXPECT_EQ(value(map, key(4)), 4);
    EXPECT_EQ(value(map, key(5)), 5);
    EXPECT_EQ(map.size(), 3u);
}

// Evictions from long probe runs, also across the end of the table: every entry
// left must still be found under its own key (the shift keeps runs unbroken).
TEST(ClockMap, BackwardShiftEraseKeepsProbeRuns)
{
    for (size_t home : {0u, 14u, 30u, 31u}) {
        Map map;
        std::vector<Uuid> colliding = keys_at(home, 32, 40);
        std::vector<Uuid> others = keys_at((home + 1) % 32, 32, 40, 1000000);
        const size_t capacity = 20;
        std::vector<Uuid> all;
        for (size_t i = 0; i < 40; ++i) {
            all.push_back(colliding[i]);
            all.push_back(others[i]);
        }
        for (size_t i = 0; i < all.size(); ++i) {
            put(map, all[i], static_cast<int>(i), capacity);
            ASSERT_LE(map.size(), capacity);
            size_t present = 0;
            for (size_t j = 0; j <= i; ++j) {
                int v = value(map, all[j]);
                if (v != -1) {
                    ASSERT_EQ(v, static_cast<int>(j)) << "home " << home;
                    ++present;
                }
            }
            ASSERT_EQ(present, map.size());
            ASSERT_EQ(value(map, all[i]), static_cast<int>(i));
        }
        EXPECT_EQ(map.evictions(), all.size() - capacity);
    }
}

// Erasing by key (a targeted invalidation) keeps every other entry and the CLOCK going.
TEST(ClockMap, EraseByKey)
{
    Map map;
    std::vector<Uuid> keys = keys_at(5, 16, 12);
    for (size_t i = 0; i < keys.size(); ++i)
        put(map, keys[i], static_cast<int>(i), 12);
    map.erase(keys[3]);
    map.erase(keys[11]);
    map.erase(key(123456)); // not cached: nothing happens
    EXPECT_EQ(map.size(), 10u);
    for (size_t i = 0; i < keys.size(); ++i)
        ASSERT_EQ(value(map, keys[i]), i == 3 || i == 11 ? -1 : static_cast<int>(i));
    for (int i = 0; i < 50; ++i)
        put(map, key(9000 + i), i, 12);
    EXPECT_EQ(map.size(), 12u);
    EXPECT_EQ(value(map, key(9049)), 49);
    for (int i = 0; i < 50; ++i)
        map.erase(key(9000 + i));
    for (size_t i = 0; i < keys.size(); ++i)
        map.erase(keys[i]);
    EXPECT_EQ(map.size(), 0u);
    put(map, key(1), 1, 12);
    EXPECT_EQ(value(map, key(1)), 1);
}

TEST(ClockMap, RandomWorkloadMatchesItsContents)
{
    std::mt19937_64 rng(2026);
    Map map;
    std::set<uint64_t> ever;
    for (int i = 0; i < 20000; ++i) {
        uint64_t n = rng() % 3000;
        ever.insert(n);
        if (rng() % 5 == 0)
            map.erase(key(n));
        else
            put(map, key(n), static_cast<int>(n), 500);
        if (i % 997 == 0) {
            size_t present = 0;
            for (uint64_t e : ever) {
                int v = value(map, key(e));
                if (v != -1) {
                    ASSERT_EQ(v, static_cast<int>(e));
                    ++present;
                }
            }
            ASSERT_EQ(present, map.size());
        }
    }
    EXPECT_LE(map.size(), 500u);
}

// Every allocation put makes fails in turn: put throws, the map is unchanged, and it
// keeps working (growing, evicting) afterwards.
TEST(ClockMap, PutGivesTheStrongGuarantee)
{
    for (int budget = 0; budget < 4; ++budget) {
        for (size_t before : {0u, 1u, 12u, 24u, 96u, 127u, 128u, 129u}) {
            FlakyMap map;
            allocations_left = -1;
            for (size_t i = 0; i < before; ++i)
                put(map, key(i), static_cast<int>(i), 1000);
            allocations_left = budget;
            bool threw = false;
            try {
                put(map, key(999), 999, 1000);
            } catch (const std::bad_alloc &) {
                threw = true;
            }
            allocations_left = -1;
            if (threw) {
                ASSERT_EQ(map.size(), before) << "budget " << budget << ", " << before << " entries";
                ASSERT_EQ(value(map, key(999)), -1);
            } else {
                ASSERT_EQ(map.size(), before + 1);
                ASSERT_EQ(value(map, key(999)), 999);
            }
            for (size_t i = 0; i < before; ++i)
                ASSERT_EQ(value(map, key(i)), static_cast<int>(i));
            // Churn well past the capacity: every slot is evicted in turn.
            for (size_t i = 0; i < 300; ++i)
                put(map, key(5000 + i), static_cast<int>(i), before + 2);
            ASSERT_LE(map.size(), before + 2);
            ASSERT_EQ(value(map, key(5299)), 299);
        }
    }
}

// Values that own heap memory survive being moved between slots by erase and eviction,
// and are freed when replaced, erased, evicted or cleared (checked by LeakSanitizer or
// valgrind if run under them; here by their contents).
TEST(ClockMap, ValuesOwningMemoryMoveIntact)
{
    ClockMap<std::string, std::allocator<char>, StringHeap> map;
    auto text = [](uint64_t n) {
        return std::string(40, static_cast<char>('a' + n % 26)) + std::to_string(n);
    };
    std::mt19937_64 rng(7);
    std::set<uint64_t> ever;
    for (int i = 0; i < 5000; ++i) {
        uint64_t n = rng() % 700;
        ever.insert(n);
        if (rng() % 4 == 0)
            map.erase(key(n));
        else
            map.put(key(n), 0, text(n), 300);
    }
    size_t present = 0;
    for (uint64_t e : ever)
        if (const std::string *v = map.peek(key(e), always)) {
            ASSERT_EQ(*v, text(e));
            ++present;
        }
    EXPECT_EQ(present, map.size());
    uint64_t heap = 0;
    map.for_each([&](const std::string &v) { heap += v.capacity(); });
    EXPECT_GE(map.bytes(), map.size() * sizeof(std::string) + heap)
        << "the heap kept count of, as entries moved";
    map.clear();
    EXPECT_EQ(map.size(), 0u);
    EXPECT_LE(map.bytes(), 128u) << "the index back to its first 16 buckets";
    EXPECT_EQ(map.peek(key(*ever.begin()), always), nullptr);
}

// bytes() follows what values own as they are put, replaced, evicted and erased; trim
// evicts (CLOCK: entries used since the hand last passed go last) down to a byte bound
// and gives back the slots' chunks, and everything when nothing fits.
TEST(ClockMap, TrimsToABoundInBytes)
{
    ClockMap<std::string, std::allocator<char>, StringHeap> map;
    auto heap_now = [&] {
        uint64_t h = 0;
        map.for_each([&](const std::string &v) { h += v.capacity(); });
        return h;
    };
    for (uint32_t i = 0; i < 1000; ++i)
        map.put(key(i), 0, std::string(100 + i % 50, 'x'), 100000);
    uint64_t fixed = map.bytes() - heap_now();
    map.put(key(3), 0, std::string(1000, 'y'), 100000); // replaced: its old heap goes
    map.erase(key(4));
    EXPECT_EQ(map.bytes() - heap_now(), fixed);
    uint64_t before = map.bytes();
    ASSERT_NE(map.peek(key(999), always), nullptr); // used lately: kept by the first sweep
    map.trim(before / 2);
    EXPECT_LE(map.bytes(), before / 2);
    EXPECT_GT(map.size(), 300u);
    EXPECT_GT(map.evictions(), 0u);
    uint64_t heap = heap_now();
    EXPECT_LE(map.bytes() - heap, fixed) << "chunks of slots given back";
    map.trim(1);
    EXPECT_EQ(map.size(), 0u);
    EXPECT_LE(map.bytes(), 128u) << "the index back to its first 16 buckets";
    map.put(key(1), 0, std::string(200, 'z'), 1);
    EXPECT_EQ(*map.peek(key(1), always), std::string(200, 'z'));
}

} // namespace
