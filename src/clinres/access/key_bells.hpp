// Key doorbells: how one changed user or tenant reaches every backend's access cache
// without shared memory (cache.cpp). A key falls in one of kBuckets buckets of its kind,
// and each bucket has a pseudo relation id at the top of the oid range, whose relcache
// invalidation (sent by PostgreSQL after commit, as for any relation) tells a backend to
// evict the cached keys of that bucket. Pure C++.
#pragma once

#include "clinres/core/uuid.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace modaccess {

namespace key_bells {

// Buckets per kind (users, tenants): one changed key evicts about entries / kBuckets others.
constexpr uint32_t kBuckets = 32768;
// The first pseudo relation id: users' buckets, then tenants'. Real relations rarely get
// oids this high; if one does, sharing an id costs a few extra invalidations, never a stale answer.
constexpr uint32_t kFirstRelid = UINT32_MAX - 2 * kBuckets + 1;
// Key doorbells one transaction rings; a bigger write rings the whole kind's doorbell
// instead (each message takes room in PostgreSQL's invalidation queue).
constexpr uint32_t kMaxPerTransaction = 128;

enum class Kind : uint8_t { User = 0, Tenant = 1 };

// The bucket of a key: UuidHash, mixed again (murmur3's finalizer), since its bits do
// not all depend on every byte of the key.
inline uint32_t bucket_of(const clinres::Uuid &key)
{
    uint64_t h = clinres::UuidHash()(key);
    h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdULL;
    h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ULL;
    return static_cast<uint32_t>(h ^ (h >> 33)) & (kBuckets - 1);
}

// The pseudo relation id of a kind's bucket.
inline uint32_t relid_of(Kind kind, uint32_t bucket)
{
    return kFirstRelid + static_cast<uint32_t>(kind) * kBuckets + bucket;
}

// Whether relid is a key doorbell, and which.
inline bool from_relid(uint32_t relid, Kind &kind, uint32_t &bucket)
{
    if (relid < kFirstRelid)
        return false;
    uint32_t n = relid - kFirstRelid;
    kind = n < kBuckets ? Kind::User : Kind::Tenant;
    bucket = n % kBuckets;
    return true;
}

// The buckets of one kind heard since the last sweep: a bit each (no allocation after construction).
class Heard {
public:
    Heard() : bits_(kBuckets / 64) {}
    void add(uint32_t bucket)
    {
        uint64_t &w = bits_[bucket / 64];
        uint64_t bit = uint64_t(1) << (bucket % 64);
        count_ += (w & bit) == 0;
        w |= bit;
    }
    bool has(uint32_t bucket) const { return bits_[bucket / 64] >> (bucket % 64) & 1; }
    uint32_t count() const { return count_; }
    void clear()
    {
        if (count_ == 0)
            return;
        std::fill(bits_.begin(), bits_.end(), 0);
        count_ = 0;
    }

private:
    std::vector<uint64_t> bits_;
    uint32_t count_ = 0;
};

// What a change asks its backend to ring.
enum class Ring : uint8_t { Nothing, Key, Kind };

// Which doorbells a transaction has rung: a key's once per command (PostgreSQL processes
// a command's invalidations locally at the next one, so the same key changed again in a
// later command rings again), at most kMaxPerTransaction in all, then the kind's.
class Ringer {
public:
    // What to ring for a change of kind's bucket in command `command`.
    Ring change(Kind kind, uint32_t bucket, uint32_t command)
    {
        if (command != command_) {
            command_ = command;
            rung_.clear();
            kind_rung_[0] = kind_rung_[1] = false;
        }
        bool &kind_rung = kind_rung_[static_cast<int>(kind)];
        if (kind_rung)
            return Ring::Nothing;
        uint32_t relid = relid_of(kind, bucket);
        for (uint32_t r : rung_)
            if (r == relid)
                return Ring::Nothing;
        if (total_ >= kMaxPerTransaction) {
            kind_rung = true;
            return Ring::Kind;
        }
        ++total_;
        rung_.push_back(relid);
        return Ring::Key;
    }

    // At the end of a transaction: forgets everything.
    void end_transaction()
    {
        subtransaction_aborted();
        total_ = 0;
    }

    // When a subtransaction rolls back: its invalidations are discarded, so what it rang
    // must be rung again (the count stays: it only overestimates what will be sent).
    void subtransaction_aborted()
    {
        command_ = UINT32_MAX;
        rung_.clear();
        kind_rung_[0] = kind_rung_[1] = false;
    }

private:
    uint32_t command_ = UINT32_MAX;
    std::vector<uint32_t> rung_; // in this command
    bool kind_rung_[2] = {false, false};
    uint32_t total_ = 0; // key doorbells in this transaction
};

} // namespace key_bells

} // namespace modaccess
