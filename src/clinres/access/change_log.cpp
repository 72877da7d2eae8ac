// A ring of (database, kind, uuid) entries in shared memory with a 64-bit head;
// an entry at sequence s lives in ring[s % kCapacity]. Writers append under an
// exclusive LWLock at commit; readers copy under a shared one. Beside the ring, for each
// key bucket of each kind, the position after the last change logged in it, and the
// position of the last flush: atomics, read without the lock.
#include "clinres/access/change_log.hpp"

#include "clinres/access/key_bells.hpp"
#include "clinres/pg/guard.hpp"

#include <atomic>

extern "C" {
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

namespace modaccess {

namespace {

constexpr uint64_t kCapacity = 8192;

struct Entry {
    uint64_t seq;
    Oid database;
    ChangeKind kind;
    Uuid key;
};

static_assert(std::atomic<uint64_t>::is_always_lock_free, "positions are read without a lock");

struct Shared {
    LWLock *lock;
    uint64_t head;
    std::atomic<uint64_t> flushed;
    std::atomic<uint64_t> changed[2][key_bells::kBuckets]; // by ChangeKind, then bucket
    Entry ring[kCapacity];
};

Shared *shared = nullptr;
shmem_request_hook_type prev_request = nullptr;
shmem_startup_hook_type prev_startup = nullptr;
const char *const kName = "clinres access change log";

// shmem_request_hook: reserves the ring and its lock.
void request_shmem()
{
    if (prev_request)
        prev_request();
    RequestAddinShmemSpace(sizeof(Shared));
    RequestNamedLWLockTranche(kName, 1);
}

// shmem_startup_hook: attaches to (or creates) the ring.
void startup_shmem()
{
    if (prev_startup)
        prev_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    shared = static_cast<Shared *>(ShmemInitStruct(kName, sizeof(Shared), &found));
    if (!found) {
        std::memset(static_cast<void *>(shared), 0, sizeof(Shared));
        shared->lock = &(GetNamedLWLockTranche(kName))->lock;
        shared->head = 1;
    }
    LWLockRelease(AddinShmemInitLock);
}

} // namespace

void init_change_log()
{
    if (!process_shared_preload_libraries_in_progress)
        return;
    prev_request = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_startup = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

bool change_log_available()
{
    return shared != nullptr;
}

uint64_t change_log_head()
{
    LWLockAcquire(shared->lock, LW_SHARED);
    uint64_t head = shared->head;
    LWLockRelease(shared->lock);
    return head;
}

void publish_changes(const std::vector<Change> &changes, bool overflow) noexcept
{
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    if (overflow || changes.size() > kCapacity / 2) {
        shared->head += kCapacity + 1; // every cursor now lags by more than the ring holds
        shared->flushed.store(shared->head, std::memory_order_relaxed);
    } else {
        for (const Change &c : changes) {
            shared->ring[shared->head % kCapacity] = Entry{shared->head, MyDatabaseId, c.kind, c.key};
            ++shared->head;
            shared->changed[static_cast<int>(c.kind)][key_bells::bucket_of(c.key)].store(
                shared->head, std::memory_order_relaxed);
        }
    }
    LWLockRelease(shared->lock);
}

bool unchanged_since(uint64_t stamp, const Uuid &user, const Uuid &tenant)
{
    auto at = [](ChangeKind kind, const Uuid &key) {
        return shared->changed[static_cast<int>(kind)][key_bells::bucket_of(key)].load(
            std::memory_order_relaxed);
    };
    return shared->flushed.load(std::memory_order_relaxed) <= stamp && at(ChangeKind::User, user) <= stamp &&
           at(ChangeKind::Tenant, tenant) <= stamp;
}

uint64_t change_log_flushed()
{
    return shared->flushed.load(std::memory_order_relaxed);
}

bool read_changes(uint64_t &cursor, std::vector<Change> &out)
{
    out.reserve(out.size() + kCapacity);
    bool complete = true;
    pg::call([&] { LWLockAcquire(shared->lock, LW_SHARED); });
    uint64_t head = shared->head;
    if (head - cursor > kCapacity) {
        complete = false;
    } else {
        for (uint64_t s = cursor; s < head; ++s) {
            const Entry &e = shared->ring[s % kCapacity];
            if (e.seq == s && e.database == MyDatabaseId)
                out.push_back(Change{e.kind, e.key}); // reserved: cannot throw
        }
    }
    LWLockRelease(shared->lock);
    cursor = head;
    return complete;
}

} // namespace modaccess
