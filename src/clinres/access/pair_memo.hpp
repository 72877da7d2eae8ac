// What a has_module call site remembers between rows of one statement: the answers
// for the (user, tenant) pairs it met, in a table it sizes by counting them first.
// Pure C++ (functions.cpp gives it PostgreSQL's allocator; the unit tests another).
#pragma once

#include "clinres/access/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace modaccess {

// The tuning of a PairMemo (memo_tuning in the unit tests' words).
namespace memo_tuning {
// Tables hold at most kMaxDecisions (3 MB) and at least kMinDecisions.
constexpr uint32_t kMinDecisions = 256;
constexpr uint32_t kMaxDecisions = 65536;
// Bits of the sketch that counts the distinct pairs a call site meets (8 kB).
constexpr uint32_t kSketchBits = 65536;
// Misses answered by the "last" entry alone before the sketch starts counting.
constexpr uint64_t kFewMisses = 256;
// Counted misses at which the sketch is read: each power of two from the first to the last.
constexpr uint64_t kFirstCount = 4096;
constexpr uint64_t kLastCount = kMaxDecisions;
// A full table is judged every kJudgeTables tables' worth of rows, and kept if it
// answered at least kKeepHits rows for each one it missed.
constexpr uint64_t kJudgeTables = 4;
constexpr uint64_t kKeepHits = 3;
} // namespace memo_tuning

// One answer: until when key may use the call site's module, for one statement and snapshot.
struct Decision {
    Key key;
    uint64_t epoch; // the statement and snapshot it belongs to (0: empty)
    int64_t until;
};

// Answers of one call site. Until a scan has missed often, only the last answer is
// kept; then the distinct pairs are counted (linear counting on a sketch of the misses):
// a table sized for them is made when they repeat and fit, none when they would not (a
// probe out of L2 that misses, then the two cache lookups anyway, costs more than it
// saves). A table grows (x4) when it misses more than it holds; a full one that answers
// less than 3 rows in 4 is dropped. "No table" lasts until reset(). The memo and its
// buffers live in memory the caller frees as a whole (a PostgreSQL context): it has no
// destructor, and Alloc::zeroed may throw (the memo is then as it was).
template <typename Alloc> class PairMemo {
public:
    explicit PairMemo(Alloc alloc) : alloc_(alloc) {}

    // This statement's answer for key, or null.
    const Decision *find(const Key &key, uint64_t epoch)
    {
        Decision *set = set_of(key);
        int ways = table_size_ == 0 ? 1 : 2;
        for (int w = 0; w < ways; ++w)
            if (set[w].epoch == epoch && set[w].key == key) {
                table_hits_ += table_size_ != 0;
                return &set[w];
            }
        return nullptr;
    }

    // Remembers an answer, the newest first in its set.
    void store(const Decision &d)
    {
        Decision *set = set_of(d.key);
        if (table_size_ != 0)
            set[1] = set[0];
        set[0] = d;
    }

    // After find missed: counts the miss, and makes, grows or drops the table.
    void missed(const Key &key)
    {
        using namespace memo_tuning;
        if (gave_up_)
            return;
        ++misses_;
        if (table_size_ == 0) {
            count_pairs(key);
            return;
        }
        if (table_size_ < kMaxDecisions) {
            if (misses_ > table_size_) {
                resize(std::min(table_size_ * 4, kMaxDecisions));
                misses_ = table_hits_ = 0;
            }
            return;
        }
        if (misses_ + table_hits_ < kJudgeTables * kMaxDecisions)
            return;
        if (table_hits_ < kKeepHits * misses_)
            reset(true);
        misses_ = table_hits_ = 0;
    }

    // Forgets every answer and choice; with give_up, no table until the next reset.
    void reset(bool give_up)
    {
        free_buffers();
        last_ = Decision{};
        misses_ = table_hits_ = 0;
        next_count_ = memo_tuning::kFirstCount;
        gave_up_ = give_up;
    }

    uint32_t table_size() const { return table_size_; }
    bool gave_up() const { return gave_up_; }

private:
    // The two places (a 2-way set of the table, or twice the "last" entry) where key's answer may live.
    Decision *set_of(const Key &key)
    {
        if (table_size_ == 0)
            return &last_;
        return &table_[(hash(key) & (table_size_ / 2 - 1)) * 2];
    }

    // A hash of key's pair, for the table and the sketch.
    static size_t hash(const Key &key)
    {
        return UuidHash()(key.user) ^ (UuidHash()(key.tenant) * 0x9e3779b97f4a7c15ULL);
    }

    // Replaces the table by an empty one of n answers; throws before any change.
    void resize(uint32_t n)
    {
        auto *table = static_cast<Decision *>(alloc_.zeroed(sizeof(Decision) * n));
        if (table_ != nullptr)
            alloc_.release(table_);
        table_ = table;
        table_size_ = n;
    }

    void free_buffers()
    {
        if (table_ != nullptr)
            alloc_.release(table_);
        if (sketch_ != nullptr)
            alloc_.release(sketch_);
        table_ = nullptr;
        sketch_ = nullptr;
        table_size_ = 0;
    }

    // The smallest power of two of at least n answers, within the table bounds.
    static uint32_t table_size_for(double n)
    {
        uint32_t size = memo_tuning::kMinDecisions;
        while (size < memo_tuning::kMaxDecisions && size < n)
            size *= 2;
        return size;
    }

    // Without a table: sets the sketch's bit of key's pair and, at each power of two from
    // kFirstCount to kLastCount counted misses, estimates the distinct pairs. More than
    // half a full table holds: no table. Fewer than 3 in 4 of the misses (the pairs
    // repeat), or the last count: a table of four times their number (its 2-way sets then
    // rarely overflow, which under a scan's cyclic order would miss on every visit).
    void count_pairs(const Key &key)
    {
        using namespace memo_tuning;
        if (misses_ <= kFewMisses)
            return;
        if (sketch_ == nullptr)
            sketch_ = static_cast<uint64_t *>(alloc_.zeroed(kSketchBits / 8));
        uint32_t bit = static_cast<uint32_t>(hash(key) >> 32) & (kSketchBits - 1);
        sketch_[bit / 64] |= uint64_t(1) << (bit % 64);
        uint64_t counted = misses_ - kFewMisses;
        // The last count always chooses (a table or none), so counting never goes past it.
        if (counted < next_count_)
            return;
        uint32_t set = 0;
        for (uint32_t w = 0; w < kSketchBits / 64; ++w)
            set += static_cast<uint32_t>(__builtin_popcountll(sketch_[w]));
        double distinct =
            set == kSketchBits ? 1e18 : -double(kSketchBits) * std::log1p(-double(set) / kSketchBits);
        if (distinct > kMaxDecisions / 2.0) {
            reset(true);
            return;
        } else if (distinct < 0.75 * double(counted) || counted >= kLastCount) {
            resize(table_size_for(4 * distinct)); // if it throws, the next miss chooses again
            alloc_.release(sketch_);
            sketch_ = nullptr;
            misses_ = table_hits_ = 0;
            next_count_ = memo_tuning::kFirstCount;
            return;
        }
        next_count_ *= 2;
    }

    Alloc alloc_;
    uint64_t misses_ = 0;                            // answers not found, since the last choice
    uint64_t table_hits_ = 0;                        // answers found in the table since it was last judged
    bool gave_up_ = false;                           // no table until the next reset
    uint64_t next_count_ = memo_tuning::kFirstCount; // counted misses at which the sketch is read next
    uint64_t *sketch_ = nullptr; // kSketchBits bits, one set for each miss's pair hash, or null
    uint32_t table_size_ = 0;    // 0 while there is no table
    Decision *table_ = nullptr;  // table_size_ answers
    Decision last_{};            // the last answer, when there is no table
};

} // namespace modaccess
