// The shared access table: buckets of kWays slots in shared memory, a slot per (database,
// user, tenant) with the pair's packed answers, the fingerprint of the globals they were
// packed with, and the change-log position they were read at (their stamp).
//
// Readers take no lock: each slot is a seqlock. Its first word holds a sequence number, odd
// while a writer rewrites the slot; a reader copies the slot between two reads of that word
// and uses the copy only if both reads are equal and even. Writers hold one LWLock among
// themselves and write nothing that can fail between the two stores, so a cancel cannot
// stop one half-way; a backend that dies in the middle makes the postmaster reinitialize
// shared memory. A slot answers only while no change to its user's or tenant's bucket was
// logged after its stamp (change_log.hpp), which the committing backend stores before it
// sends the doorbell: a backend that has heard the doorbell of a change never gets an
// answer from before it. A flush (a write too big to log key by key, a TRUNCATE, a COMMIT
// PREPARED, whose keys are not logged) outdates every slot at once.
//
// The table uses a prefix of its buckets (a sixteenth at first), which doubles (up to the setting) when a
// full bucket must lose a slot while the prefix is half full: the slots a server uses stay close together, so
// a lookup touches few pages (a random slot of the whole 64MB cost a TLB miss on every row). A doubling moves
// the pairs to other buckets; each is put again on its next miss, and the copy left behind is never where a
// lookup looks (writers take it as a free slot).
#include "clinres/access/shared_table.hpp"

#include "clinres/access/change_log.hpp"
#include "clinres/pg/guard.hpp"
#include "clinres/pg/postgres.hpp"

extern "C" {
#include "nodes/parsenodes.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
}

#include <algorithm>
#include <atomic>

namespace modaccess {

namespace {

constexpr int kWays = 4;

// One slot, as words: the sequence (low half) and the database (high half), the stamp, the
// globals' fingerprint, the user, the tenant and the packed answers (88 bytes; 96 with the
// padding of the bucket's last cache line).
enum Word {
    kSeq,
    kStamp,
    kFingerprint,
    kUserHi,
    kUserLo,
    kTenantHi,
    kTenantLo,
    kAllowed,
    kBounded,
    kUntil,
    kFrom,
    kWords
};
struct Slot {
    std::atomic<uint64_t> w[kWords];
};
struct alignas(64) Bucket {
    Slot slots[kWays];
};

struct Header {
    LWLock *lock;
    uint64_t buckets;             // reserved
    std::atomic<uint64_t> in_use; // the prefix of buckets in use, at most `buckets`
    std::atomic<uint64_t> used;   // slots ever filled
    uint64_t filled;              // slots filled since the last doubling (not replacing a pair of theirs)
    uint64_t replacements;        // picks the victim in a full bucket
};

Header *header = nullptr;
Bucket *table = nullptr;
int memory_kb = 0; // clinres.shared_access_cache_memory (off unless set: docs/benchmarks.md)
shmem_request_hook_type prev_request = nullptr;
shmem_startup_hook_type prev_startup = nullptr;
ProcessUtility_hook_type prev_utility = nullptr;
const char *const kName = "clinres shared access table";

// A new table uses a sixteenth of its buckets (at least 1,024): doublings move pairs, which a
// new session then reads from the catalog, so a catalog that fits in 4MB should need none.
constexpr uint64_t kFirstBuckets = 1024;

// The buckets the setting's bytes hold.
uint64_t bucket_count()
{
    return static_cast<uint64_t>(memory_kb) * 1024 / sizeof(Bucket);
}

// The shared memory the table asks for: its header, alignment, and the buckets.
Size table_bytes()
{
    return MAXALIGN(sizeof(Header)) + alignof(Bucket) + bucket_count() * sizeof(Bucket);
}

// shmem_request_hook: reserves the table and the writers' lock.
void request_shmem()
{
    if (prev_request)
        prev_request();
    if (bucket_count() == 0)
        return;
    RequestAddinShmemSpace(table_bytes());
    RequestNamedLWLockTranche(kName, 1);
}

// shmem_startup_hook: attaches to (or creates and empties) the table.
void startup_shmem()
{
    if (prev_startup)
        prev_startup();
    if (bucket_count() == 0)
        return;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    void *base = ShmemInitStruct(kName, table_bytes(), &found);
    auto *h = static_cast<Header *>(base);
    uintptr_t first = reinterpret_cast<uintptr_t>(base) + MAXALIGN(sizeof(Header));
    first = (first + alignof(Bucket) - 1) & ~uintptr_t(alignof(Bucket) - 1);
    if (!found) {
        std::memset(base, 0, table_bytes());
        h->lock = &(GetNamedLWLockTranche(kName))->lock;
        h->buckets = bucket_count();
        h->in_use.store(std::min(std::max(kFirstBuckets, h->buckets / 16), h->buckets),
                        std::memory_order_relaxed);
    }
    LWLockRelease(AddinShmemInitLock);
    header = h;
    table = reinterpret_cast<Bucket *>(first);
}

// After a COMMIT PREPARED: the prepared transaction's keys were never logged (its backend
// rang whole kinds instead), so the committed change outdates every slot.
void utility(PlannedStmt *pstmt, const char *query, bool read_only, ProcessUtilityContext context,
             ParamListInfo params, QueryEnvironment *env, DestReceiver *dest, QueryCompletion *qc)
{
    if (prev_utility)
        prev_utility(pstmt, query, read_only, context, params, env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query, read_only, context, params, env, dest, qc);
    Node *stmt = pstmt->utilityStmt;
    if (table != nullptr && IsA(stmt, TransactionStmt) &&
        castNode(TransactionStmt, stmt)->kind == TRANS_STMT_COMMIT_PREPARED)
        publish_changes({}, true);
}

// The hash of (database, key) that picks its bucket.
uint64_t pair_hash(const Key &key, Oid database = MyDatabaseId)
{
    uint64_t h = UuidHash()(key.user) ^ (UuidHash()(key.tenant) * 0x9e3779b97f4a7c15ULL);
    h ^= static_cast<uint64_t>(database) * 0xc2b2ae3d27d4eb4fULL;
    return h ^ (h >> 31);
}

// The bucket in use that a pair's hash picks.
Bucket &bucket_of(uint64_t hash)
{
    uint64_t n = header->in_use.load(std::memory_order_acquire);
    return table[static_cast<uint64_t>((static_cast<unsigned __int128>(hash) * n) >> 64)];
}

// Under the writers' lock, when a full bucket must lose a slot: doubles the buckets in use if
// the setting allows it and half of their slots were filled since the last time; true if it
// did. (One overfull bucket does not make the table grow: its pairs take turns.)
bool grow()
{
    uint64_t n = header->in_use.load(std::memory_order_relaxed);
    if (n == header->buckets || header->filled < n * kWays / 2)
        return false;
    header->in_use.store(std::min(2 * n, header->buckets), std::memory_order_release);
    header->filled = 0;
    return true;
}

// The first word of a slot holding key in this database, with sequence seq.
uint64_t first_word(uint32_t seq)
{
    return static_cast<uint64_t>(MyDatabaseId) << 32 | seq;
}

// Whether slot (a consistent copy) holds key of this database.
bool holds(const uint64_t *copy, const Key &key)
{
    return copy[kSeq] >> 32 == MyDatabaseId && copy[kUserHi] == key.user.hi() &&
           copy[kUserLo] == key.user.lo() && copy[kTenantHi] == key.tenant.hi() &&
           copy[kTenantLo] == key.tenant.lo();
}

// Copies slot if no writer is in it; false otherwise (or if it is empty).
bool read_slot(const Slot &slot, uint64_t *copy)
{
    uint64_t first = slot.w[kSeq].load(std::memory_order_acquire);
    if ((first & 1) || static_cast<uint32_t>(first) == 0)
        return false;
    for (int i = 1; i < kWords; ++i)
        copy[i] = slot.w[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    copy[kSeq] = first;
    return slot.w[kSeq].load(std::memory_order_relaxed) == first;
}

// What a slot of bucket b holds, for a writer looking for room.
enum class Room { Taken, Outdated, Empty };

// Taken: a pair that still answers. Outdated: one a change outdated. Empty: nothing, an
// abandoned write, or a pair left behind by a doubling (it now belongs to another bucket).
Room room_in(const Slot &slot, const Bucket &b)
{
    uint64_t copy[kWords];
    if (!read_slot(slot, copy))
        return Room::Empty; // no writer but this one can be in it
    Key k;
    std::memcpy(k.user.bytes, &copy[kUserHi], 8);
    std::memcpy(k.user.bytes + 8, &copy[kUserLo], 8);
    std::memcpy(k.tenant.bytes, &copy[kTenantHi], 8);
    std::memcpy(k.tenant.bytes + 8, &copy[kTenantLo], 8);
    if (&bucket_of(pair_hash(k, static_cast<Oid>(copy[kSeq] >> 32))) != &b)
        return Room::Empty;
    return unchanged_since(copy[kStamp], k.user, k.tenant) ? Room::Taken : Room::Outdated;
}

// Whether key has no place in bucket b of a table that cannot grow: every slot holds another
// pair that still answers. Then the pair is left to the backends' caches: replacing answers
// that still hold would make the table thrash (a lock and a write on every row).
bool full(const Bucket &b, const Key &key)
{
    if (header->in_use.load(std::memory_order_relaxed) != header->buckets)
        return false;
    uint64_t copy[kWords];
    for (const Slot &slot : b.slots)
        if ((read_slot(slot, copy) && holds(copy, key)) || room_in(slot, b) != Room::Taken)
            return false;
    return true;
}

// Under the writers' lock: the slot for key (its own, a free one, or one replaced while the
// table may still grow), growing the table if it must; null if the table is full (see full).
Slot *place(uint64_t hash, const Key &key)
{
    for (;;) {
        Bucket &b = bucket_of(hash);
        uint64_t copy[kWords];
        for (Slot &slot : b.slots)
            if (read_slot(slot, copy) && holds(copy, key))
                return &slot;
        Slot *outdated = nullptr;
        for (Slot &slot : b.slots) {
            Room r = room_in(slot, b);
            if (r == Room::Empty) {
                ++header->filled;
                return &slot;
            }
            if (r == Room::Outdated && outdated == nullptr)
                outdated = &slot;
        }
        if (outdated != nullptr)
            return outdated;
        if (grow())
            continue;
        if (full(b, key))
            return nullptr;
        return &b.slots[header->replacements++ % kWays];
    }
}

} // namespace

void init_shared_table()
{
    if (!process_shared_preload_libraries_in_progress)
        return; // a server-start setting: defined only where it can take effect
    DefineCustomIntVariable(
        "clinres.shared_access_cache_memory",
        "Shared memory for the server's one table of access answers (clinres preloaded).",
        "96 bytes per (user, tenant) pair; 0 (the default) turns the table off. Pairs it cannot "
        "hold are answered by each session's own cache (clinres.access_cache_memory).",
        &memory_kb, 0, 0, MAX_KILOBYTES, PGC_POSTMASTER, GUC_UNIT_KB, nullptr, nullptr, nullptr);
    prev_request = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_startup = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
    prev_utility = ProcessUtility_hook;
    ProcessUtility_hook = utility;
}

bool shared_table_available()
{
    return table != nullptr;
}

bool shared_until(const Key &key, uint64_t fingerprint, int m, int64_t now, int64_t &until)
{
    const Bucket &b = bucket_of(pair_hash(key));
    for (const Slot &slot : b.slots) {
        if (slot.w[kUserHi].load(std::memory_order_relaxed) != key.user.hi())
            continue; // not this pair, or being rewritten: read_slot decides the rest
        uint64_t copy[kWords];
        if (!read_slot(slot, copy) || !holds(copy, key))
            continue;
        if (copy[kFingerprint] != fingerprint || !unchanged_since(copy[kStamp], key.user, key.tenant))
            return false;
        PairAnswers a{copy[kAllowed], copy[kBounded], static_cast<int64_t>(copy[kUntil]),
                      static_cast<int64_t>(copy[kFrom])};
        if (!a.answers_at(now))
            return false; // a transaction older than what the answers know
        until = a.until_at(m, now);
        return true;
    }
    return false;
}

void shared_put(const Key &key, uint64_t stamp, uint64_t fingerprint, const PairAnswers &answers)
{
    if (stamp < change_log_flushed())
        return;
    uint64_t hash = pair_hash(key);
    if (full(bucket_of(hash), key))
        return; // without the lock: a full table keeps what it holds
    pg::call([&] { LWLockAcquire(header->lock, LW_EXCLUSIVE); });
    Slot *target = place(hash, key);
    if (target == nullptr) {
        LWLockRelease(header->lock);
        return;
    }
    uint64_t old = target->w[kSeq].load(std::memory_order_relaxed);
    if (static_cast<uint32_t>(old) == 0)
        header->used.fetch_add(1, std::memory_order_relaxed);
    uint32_t seq = static_cast<uint32_t>(old) | 1; // odd: being written
    target->w[kSeq].store((old & ~uint64_t(UINT32_MAX)) | seq, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    uint64_t values[kWords] = {0,
                               stamp,
                               fingerprint,
                               key.user.hi(),
                               key.user.lo(),
                               key.tenant.hi(),
                               key.tenant.lo(),
                               answers.allowed,
                               answers.bounded,
                               static_cast<uint64_t>(answers.until),
                               static_cast<uint64_t>(answers.from)};
    for (int i = 1; i < kWords; ++i)
        target->w[i].store(values[i], std::memory_order_relaxed);
    uint32_t next = seq + 1 == 0 ? 2 : seq + 1; // even and never 0 (empty)
    target->w[kSeq].store(first_word(next), std::memory_order_release);
    LWLockRelease(header->lock);
}

SharedStats shared_stats()
{
    if (table == nullptr)
        return SharedStats{0, 0};
    return SharedStats{header->used.load(std::memory_order_relaxed),
                       header->in_use.load(std::memory_order_relaxed) * sizeof(Bucket)};
}

} // namespace modaccess
