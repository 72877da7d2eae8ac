// Backend-local cache of the access catalog, never stale.
//
// What is cached: one entry per user (status, platform role, every membership with
// its own module configuration) and one per tenant (status, subscriptions), plus the
// modules, permissions and role grants. A question about (user, tenant) combines the
// two entries, so 10,000 users and 100 tenants need 10,100 entries, not a million.
//
// How freshness works. Triggers on every catalog table that decides access ring a
// doorbell: a relcache invalidation of a fixed relation (a "sentinel", see Sentinels;
// fixed rather than TG_RELID so it also works on Citus placements; a sequence no plan
// uses, so that ringing it per written row replans nothing). PostgreSQL
// delivers it to this backend at its next command and to every other backend after
// commit, and replays it here on rollback; a callback registered with
// CacheRegisterRelcacheCallback notes what to drop. This is the mechanism PostgreSQL
// uses for its own caches (and Citus for its metadata), so TRUNCATE, COPY and plain SQL
// are covered, with no polling and nothing on the hit path.
// What is dropped is as narrow as the change. Modules, roles and permissions
// (statement triggers) ring the globals doorbell: everything goes. A row of users,
// user_tenants, user_modules, tenants or tenant_modules (row triggers; on users and
// tenants only when id, status or platform_role changed, so logins and profile edits
// ring nothing) names one user or tenant. When clinres is preloaded, the trigger notes
// the key, the commit appends it to a shared log (change_log.cpp) after the change is
// visible and before the doorbell goes out, and a backend that hears the log doorbell
// evicts just the logged keys (all users and tenants if the log overflowed). Without
// the log, the trigger rings the key's own doorbell (key_bells.hpp): a relcache
// invalidation of a pseudo relation id naming the key's bucket, which PostgreSQL
// delivers like any other (after commit, at the next command locally, replayed on
// rollback, kept with a prepared transaction); a backend evicts the cached keys of that
// bucket. Past 128 keys in a transaction, and for TRUNCATE, the users or tenants
// doorbell empties that kind.
// This backend's own uncommitted keys are evicted at its next command, and again if its
// transaction rolls back (with the log: both kinds are dropped). Two details make it exact:
// - Invalidations are read when a backend starts a transaction or takes a new lock,
//   and a cache hit takes no lock. So the first call of each statement, and the
//   first under each new snapshot of the calling SQL (every statement of a PL/pgSQL
//   or SQL function under READ COMMITTED takes one), calls AcceptInvalidationMessages
//   (begin_call): one unlocked load when the queue is empty. Answers remembered by
//   call sites belong to that statement and snapshot (epoch).
// - A miss reads the catalog the way the system caches do, under the latest
//   snapshot: a commit is visible before its invalidation is sent, so an entry read
//   this way can only be outdated by an invalidation that is still to come. Where
//   the latest snapshot must not be used, the entry is kept only as long as the
//   snapshot it was read under: for the transaction under REPEATABLE READ and
//   SERIALIZABLE (which see their snapshot), for the statement in a parallel leader,
//   and for the worker's life in a parallel worker.
// The shared table (shared_table.cpp, preloaded): has_module asks it before this cache, and
// a pair this cache answered goes into it, packed, stamped with this cache's log cursor:
// every change logged before the cursor has been taken in (its keys were evicted when the
// log was read, and what was read after that saw the change), so the pair answers for
// others until the log shows a later change to its user or tenant. The globals' fingerprint
// (with the sentinels: one incarnation of the extension) says which module and role
// indexes the answers use. A whole kind going (TRUNCATE) is published as a flush, and a
// backend that hears a kind's doorbell reads the log at once, so that its cursor crosses
// the flush only together with the drop. Only entries read under the latest snapshot go
// in, and only while the transaction has no catalog change of its own.
// Cold starts: a statement that has read 8 users one by one reads the rest in bulk (every
// user in one query if they fill at most half the cache, else each tenant's members).
// expires_at is stored, not evaluated, so a subscription that lapses needs no write.
// Memory is bounded by clinres.access_cache_memory bytes (tenants at most a quarter,
// users the rest), counted as entries come and go, replaced by CLOCK. A user entry is packed by value into
// the map (user_entry.hpp: memberships inline, tenants as small ids, roles as ids of the globals); a View
// copies the user's access out of it, and shares the tenant entry and the globals, so an answer being
// computed stands even if an invalidation empties the cache.
#include "clinres/access/cache.hpp"

#include "clinres/access/catalog_reader.hpp"
#include "clinres/access/change_log.hpp"
#include "clinres/access/clock_map.hpp"
#include "clinres/access/key_bells.hpp"
#include "clinres/access/shared_table.hpp"
#include "clinres/access/tenant_ids.hpp"
#include "clinres/access/user_entry.hpp"
#include "clinres/pg/compat.hpp"
#include "clinres/pg/guard.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
}

#include <algorithm>
#include <cstdint>

namespace modaccess {

namespace {

// Written by the invalidation and transaction callbacks: plain data only.
struct Invalidation {
    uint64_t generation = 1; // bumped by every doorbell: call-site memos start over
    uint64_t count = 0;
    Sentinels sentinels; // in this database, once looked up
    bool drop_all = false, drop_users = false, drop_tenants = false, read_log = false;
    key_bells::Heard heard_users, heard_tenants; // key doorbells' buckets
} inval;

// The key doorbells this transaction has rung (without the shared log).
key_bells::Ringer ringer;

// This transaction's changed keys, published at commit (when the shared log exists).
std::vector<Change> pending;
bool pending_overflow = false;
constexpr size_t kMaxPending = 4096;

// Whether this transaction changed the catalog (rang any doorbell): the shared table, which
// holds committed answers only, then neither answers nor is filled by this backend.
bool own_changes = false;

// What tells one snapshot of the calling SQL from the next: a snapshot taken after any
// transaction with an xid ended has another completion count (PostgreSQL 14+), and
// one taken with none ended sees exactly what its predecessor saw (this backend's own
// changes come as local invalidations). xmin and xmax tell imported snapshots apart.
struct SnapshotMark {
    bool taken = false; // false: no active snapshot, so every call counts as a new one
    uint64_t completions = 0;
    TransactionId xmin = InvalidTransactionId, xmax = InvalidTransactionId;
    bool operator==(const SnapshotMark &o) const
    {
        return taken == o.taken && completions == o.completions && xmin == o.xmin && xmax == o.xmax;
    }
};

// The mark of the snapshot the calling statement runs under.
SnapshotMark snapshot_mark()
{
    if (!ActiveSnapshotSet())
        return SnapshotMark{};
    Snapshot snap = GetActiveSnapshot();
    return SnapshotMark{true, snap->snapXactCompletionCount, snap->xmin, snap->xmax};
}

// Which statement, snapshot and transaction the backend is in, as scope tags for entries.
constexpr uint64_t kTransactionTag = uint64_t(1) << 63;
struct Statement {
    LocalTransactionId lxid = InvalidLocalTransactionId;
    TimestampTz start = 0;
    CommandId command = InvalidCommandId;
    SnapshotMark snapshot;
    uint64_t epoch = 1;                     // a new one per statement and per snapshot
    uint64_t transaction = kTransactionTag; // a new one per transaction
} stmt;

int memory_kb = 16384; // clinres.access_cache_memory

bool answers_now(uint64_t scope)
{
    return scope == 0 || scope == stmt.epoch || scope == stmt.transaction;
}

// Tenant ids that may go unused (their users evicted) before sync counts the used ones.
constexpr size_t kTenantIdsSlack = 1024;

// A cached tenant: its entry (shared with Views) and its id in Cache::tenant_ids.
struct CachedTenant {
    std::shared_ptr<const TenantEntry> entry;
    uint32_t id;
};

// What a cached user owns on the heap.
struct UserHeap {
    size_t operator()(const UserEntry &u) const { return u.heap_bytes(); }
};

// What a cached tenant owns on the heap: make_shared's block (counts and vptr, the
// entry) and its vector's buffer, each with malloc's 16-byte header.
struct TenantHeap {
    size_t operator()(const CachedTenant &t) const
    {
        return 16 + sizeof(TenantEntry) + 16 + t.entry->subscribed_until.capacity() * sizeof(int64_t) + 16;
    }
};

struct Cache {
    uint64_t built_generation = 0;
    uint64_t log_cursor = change_log_available() ? change_log_head() : 0;
    uint64_t globals_scope = 0;
    std::shared_ptr<const Globals> globals;
    uint64_t fingerprint = 0; // of globals and the extension's incarnation, if the shared table may use them
    ClockMap<UserEntry, std::allocator<char>, UserHeap> users;
    ClockMap<CachedTenant, std::allocator<char>, TenantHeap> tenants;
    TenantIds<> tenant_ids;                    // of cached tenants and the tenants of cached memberships
    size_t tenant_ids_check = kTenantIdsSlack; // how many ids make sync look for unused ones
    uint64_t hits = 0, misses = 0, shared_hits = 0;
    uint64_t miss_epoch = 0;        // the statement and snapshot the next two count for
    uint64_t epoch_misses = 0;      // user reads in it
    std::vector<Uuid> bulk_tenants; // tenants whose members it read in bulk
};

// A statement that has read this many users one by one reads the rest of a tenant's members at once.
constexpr uint64_t kBulkAfterMisses = 8;

Cache &cache()
{
    static Cache *c = new Cache(); // lives as long as the backend
    return *c;
}

// The bytes clinres.access_cache_memory allows; tenants may take a quarter, users the rest.
uint64_t budget()
{
    return static_cast<uint64_t>(memory_kb) * 1024;
}
uint64_t tenant_budget()
{
    return budget() / 4;
}
uint64_t user_budget(const Cache &c)
{
    uint64_t others = sizeof(Cache) + c.tenants.bytes() + c.tenant_ids.bytes();
    return others < budget() ? budget() - others : 0;
}

// The entries map may hold once value is in: one more if the bytes left allow it, else
// as many as now (the value replaces a victim); put's caller trims after.
template <typename Map> size_t room(const Map &map, uint64_t limit, size_t heap)
{
    return map.bytes() + Map::kEntryBytes + heap <= limit ? map.size() + 1 : std::max<size_t>(map.size(), 1);
}

// How many plain users (memberships inline) fit in the users' bytes.
size_t users_that_fit(const Cache &c)
{
    return static_cast<size_t>(user_budget(c) / decltype(c.users)::kEntryBytes);
}

// Relcache callback: notes what a doorbell (or a full reset) asks to drop.
void on_relcache_invalidation(Datum, Oid relid)
{
    const Sentinels &s = inval.sentinels;
    key_bells::Kind kind;
    uint32_t bucket;
    if (relid != InvalidOid && key_bells::from_relid(relid, kind, bucket))
        (kind == key_bells::Kind::User ? inval.heard_users : inval.heard_tenants).add(bucket);
    else if (relid == InvalidOid || relid == s.globals)
        inval.drop_all = true;
    else if (relid == s.users)
        inval.drop_users = true;
    else if (relid == s.tenants)
        inval.drop_tenants = true;
    else if (relid == s.log)
        inval.read_log = true;
    else
        return;
    ++inval.generation;
    ++inval.count;
}

// Transaction callback: publishes this transaction's keys at commit (visible by now,
// and before its doorbell is sent); makes a prepared transaction ring the doorbells
// of whole kinds (another backend will commit it); drops both kinds after a rollback
// that had entries read from its own uncommitted rows.
void on_transaction(XactEvent event, void *)
{
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE) {
        ringer.end_transaction();
        own_changes = false;
    }
    if (pending.empty() && !pending_overflow)
        return;
    if (event == XACT_EVENT_COMMIT) {
        publish_changes(pending, pending_overflow);
    } else if (event == XACT_EVENT_PRE_PREPARE) {
        CacheInvalidateRelcacheByRelid(inval.sentinels.users); // may raise: nothing here to destroy
        CacheInvalidateRelcacheByRelid(inval.sentinels.tenants);
    } else if (event == XACT_EVENT_ABORT) {
        inval.drop_users = inval.drop_tenants = true;
        ++inval.generation;
    } else {
        return;
    }
    pending.clear();
    pending_overflow = false;
}

// Subtransaction callback: what a rolled-back subtransaction rang is discarded, so it is rung again.
void on_subtransaction(SubXactEvent event, SubTransactionId, SubTransactionId, void *)
{
    if (event == SUBXACT_EVENT_ABORT_SUB)
        ringer.subtransaction_aborted();
}

// Drops every user and tenant entry, and the tenant ids they held.
void drop_entries(Cache &c)
{
    c.users.clear();
    c.tenants.clear();
    c.tenant_ids.clear();
    c.tenant_ids_check = kTenantIdsSlack;
}

// Once the tenant ids have doubled since the last look: drops every entry (and with them
// every id) if most ids are no longer held by a cached entry (evicted ones leave theirs).
void collect_tenant_ids(Cache &c)
{
    if (c.tenant_ids.size() <= c.tenant_ids_check)
        return;
    std::vector<bool> used(c.tenant_ids.size());
    size_t in_use = 0;
    auto use = [&](uint32_t id) {
        in_use += !used[id];
        used[id] = true;
    };
    c.users.for_each([&](const UserEntry &u) { u.for_each_tenant(use); });
    c.tenants.for_each([&](const CachedTenant &t) { use(t.id); });
    if (c.tenant_ids.size() > 2 * in_use + kTenantIdsSlack)
        drop_entries(c);
    else
        c.tenant_ids_check = 2 * c.tenant_ids.size();
}

// Evicts the entries of the changed keys.
void evict(Cache &c, const std::vector<Change> &changes)
{
    for (const Change &ch : changes) {
        if (ch.kind == ChangeKind::User)
            c.users.erase(ch.key);
        else
            c.tenants.erase(ch.key);
    }
}

// Evicts the entries in the buckets the key doorbells named (unless their kind goes whole),
// and forgets the buckets.
void evict_heard(Cache &c, bool users, bool tenants)
{
    key_bells::Heard &hu = inval.heard_users, &ht = inval.heard_tenants;
    if (hu.count() != 0 && !users)
        c.users.erase_if([&](const Uuid &k) { return hu.has(key_bells::bucket_of(k)); });
    if (ht.count() != 0 && !tenants)
        c.tenants.erase_if([&](const Uuid &k) { return ht.has(key_bells::bucket_of(k)); });
    hu.clear();
    ht.clear();
}

// Evicts the keys the log holds since the last read, and this transaction's own.
void evict_logged(Cache &c)
{
    std::vector<Change> changes(pending);
    if (!read_changes(c.log_cursor, changes) || pending_overflow) {
        drop_entries(c);
        return;
    }
    evict(c, changes);
}

// Drops what the doorbells heard since the last sync asked for.
void sync(Cache &c)
{
    collect_tenant_ids(c);
    if (c.tenants.bytes() > tenant_budget())
        c.tenants.trim(tenant_budget()); // the setting was lowered
    if (c.users.bytes() > user_budget(c))
        c.users.trim(user_budget(c));
    if (c.built_generation == inval.generation)
        return;
    bool all = inval.drop_all, users = inval.drop_users, tenants = inval.drop_tenants, log = inval.read_log;
    inval.drop_all = inval.drop_users = inval.drop_tenants = inval.read_log = false;
    c.built_generation = inval.generation;
    if (all) {
        c.globals.reset();
        users = tenants = true;
    }
    evict_heard(c, users, tenants);
    log = log || users || tenants; // a whole kind may come with a flush of the log: cross it now
    if (users && tenants)
        drop_entries(c); // and the tenant ids
    else if (users)
        c.users.clear();
    else if (tenants)
        c.tenants.clear();
    if (log && change_log_available())
        evict_logged(c);
}

// The sentinels, looked up afresh for every read so DROP/CREATE EXTENSION is noticed.
Oid sentinel_for_read()
{
    Sentinels s = sentinel_relations();
    if (!OidIsValid(s.globals))
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "extension \"clinres\" is not installed in this database");
    if (!(s == inval.sentinels)) {
        // A new incarnation of the extension: nothing cached before can stand.
        inval.sentinels = s;
        on_relcache_invalidation(0, InvalidOid);
    }
    return s.globals;
}

// How the next catalog read is made, and how long what it returns may answer.
struct ReadPlan {
    bool latest;
    uint64_t scope;
};

ReadPlan read_plan()
{
    if (IsParallelWorker())
        return {false, 0}; // the worker ends with the statement
    if (IsInParallelMode())
        return {false, stmt.epoch}; // GetLatestSnapshot is not allowed here
    if (IsolationUsesXactSnapshot())
        return {false, stmt.transaction};
    return {true, 0};
}

// The current globals, read from the catalog if needed.
std::shared_ptr<const Globals> current_globals(Cache &c)
{
    sync(c);
    if (c.globals && answers_now(c.globals_scope))
        return c.globals;
    ReadPlan plan = read_plan();
    auto g = std::make_shared<const Globals>(read_globals(sentinel_for_read(), plan.latest));
    sync(c);
    drop_entries(c); // entries index modules and roles as the replaced globals did
    c.globals = g;
    c.globals_scope = plan.scope;
    c.fingerprint = 0;
    if (shared_table_available() && plan.latest && plan.scope == 0) {
        const Sentinels &s = inval.sentinels; // another incarnation of the extension: other answers
        uint64_t h = globals_fingerprint(*g) ^
                     ((uint64_t(s.globals) << 32 | s.users) * 0x9e3779b97f4a7c15ULL) ^
                     ((uint64_t(s.tenants) << 32 | s.log) * 0xc2b2ae3d27d4eb4fULL);
        c.fingerprint = h == 0 ? 1 : h;
    }
    return g;
}

// The scope of an entry read by plan: the globals' own, if they are scoped.
uint64_t entry_scope(const Cache &c, const ReadPlan &plan)
{
    return c.globals_scope != 0 ? c.globals_scope : plan.scope;
}

// The cached entry of tenant id, or one read from the catalog (and cached).
std::shared_ptr<const TenantEntry> tenant_entry(Cache &c, const Uuid &id,
                                                const std::shared_ptr<const Globals> &g)
{
    sync(c);
    if (c.globals == g) {
        if (const CachedTenant *hit = c.tenants.peek(id, answers_now)) {
            ++c.hits;
            return hit->entry;
        }
    }
    ++c.misses;
    ReadPlan plan = read_plan();
    auto value = std::make_shared<const TenantEntry>(read_tenant(sentinel_for_read(), plan.latest, id, *g));
    sync(c);
    if (c.globals == g) { // not if an invalidation replaced the globals meanwhile
        CachedTenant t{value, c.tenant_ids.intern(id)};
        size_t capacity = room(c.tenants, tenant_budget(), TenantHeap()(t));
        c.tenants.put(id, entry_scope(c, plan), std::move(t), capacity);
        c.tenants.trim(tenant_budget());
    }
    return value;
}

// Packs u and caches it as user id's entry (the caller has synced, and g is current).
void put_user(Cache &c, const Uuid &id, const UserFacts &u, const Globals &g, uint64_t scope)
{
    std::vector<uint32_t> tenant_ids(u.memberships.size(), TenantIds<>::npos);
    for (size_t i = 0; i < u.memberships.size(); ++i)
        if (u.memberships[i].active)
            tenant_ids[i] = c.tenant_ids.intern(u.memberships[i].tenant);
    UserEntry entry(u, tenant_ids, g.modules.size() > 64);
    size_t capacity = room(c.users, user_budget(c), entry.heap_bytes());
    c.users.put(id, scope, std::move(entry), capacity);
    c.users.trim(user_budget(c));
}

// The access of key's user in key's tenant, from the cached entry or one read from the catalog (and cached).
Access user_access(Cache &c, const Key &key, const std::shared_ptr<const Globals> &g)
{
    sync(c);
    if (c.globals == g) {
        if (const UserEntry *hit = c.users.peek(key.user, answers_now)) {
            ++c.hits;
            if (!hit->timed())
                return hit->access_in(c.tenant_ids.find(key.tenant));
            // A user with validities: the entry says only that; they are read afresh (rules.cpp).
            return access_in(read_user(sentinel_for_read(), read_plan().latest, key.user, *g), key.tenant);
        }
    }
    ++c.misses;
    ReadPlan plan = read_plan();
    UserFacts u = read_user(sentinel_for_read(), plan.latest, key.user, *g);
    sync(c);
    if (c.globals == g) // not if an invalidation replaced the globals meanwhile
        put_user(c, key.user, u, *g, entry_scope(c, plan));
    return access_in(u, key.tenant);
}

// Message hint listing the valid codes of a kind.
std::string list_codes(const std::vector<std::string> &codes)
{
    std::string out;
    for (const std::string &code : codes)
        out += (out.empty() ? "" : ", ") + code;
    return out;
}

std::string lower_ascii(std::string_view s)
{
    std::string out(s);
    for (char &ch : out)
        if (ch >= 'A' && ch <= 'Z')
            ch = static_cast<char>(ch - 'A' + 'a');
    return out;
}

} // namespace

void init_cache()
{
    DefineCustomIntVariable("clinres.access_cache_memory",
                            "Memory a session's access cache may hold (users and tenants together).",
                            "When full, entries not used lately are replaced (CLOCK); tenants take at "
                            "most a quarter. About 100 bytes per user with up to 3 memberships.",
                            &memory_kb, 16384, 1, MAX_KILOBYTES, PGC_USERSET, GUC_UNIT_KB, nullptr, nullptr,
                            nullptr);
    CacheRegisterRelcacheCallback(on_relcache_invalidation, 0);
    RegisterXactCallback(on_transaction, nullptr);
    RegisterSubXactCallback(on_subtransaction, nullptr);
}

void begin_call()
{
    LocalTransactionId lxid = pg::local_xid();
    TimestampTz start = GetCurrentStatementStartTimestamp();
    CommandId command = GetCurrentCommandId(false);
    SnapshotMark mark = snapshot_mark();
    if (lxid == stmt.lxid && start == stmt.start && command == stmt.command && mark == stmt.snapshot &&
        mark.taken)
        return;
    if (lxid != stmt.lxid)
        ++stmt.transaction;
    stmt.lxid = lxid;
    stmt.start = start;
    stmt.command = command;
    stmt.snapshot = mark;
    ++stmt.epoch;
    pg::call([] { AcceptInvalidationMessages(); });
}

uint64_t generation()
{
    return inval.generation;
}
uint64_t epoch()
{
    return stmt.epoch;
}
void count_hit()
{
    ++cache().hits;
}

namespace {

// On a user miss: once this statement has missed often (a cold scan), reads every user in
// one query if they fill at most half the cache, else every member of the tenant asked
// about, instead of one query per user.
void maybe_bulk_load(Cache &c, const Key &key, const std::shared_ptr<const Globals> &g)
{
    if (c.miss_epoch != stmt.epoch) {
        c.miss_epoch = stmt.epoch;
        c.epoch_misses = 0;
        c.bulk_tenants.clear();
    }
    ++c.epoch_misses;
    if (c.epoch_misses <= kBulkAfterMisses ||
        std::find(c.bulk_tenants.begin(), c.bulk_tenants.end(), key.tenant) != c.bulk_tenants.end())
        return;
    bool everyone = c.epoch_misses == kBulkAfterMisses + 1;
    c.bulk_tenants.push_back(key.tenant);
    ++c.misses;
    ReadPlan plan = read_plan();
    size_t half = users_that_fit(c) / 2;
    auto users = everyone ? read_all_users(sentinel_for_read(), plan.latest, *g, half)
                          : read_tenant_members(sentinel_for_read(), plan.latest, key.tenant, *g);
    sync(c);
    if (c.globals != g || users.size() > half) // replaced meanwhile, or too many
        return;
    if (everyone && !users.empty())
        c.epoch_misses = 0; // every user is cached: no tenant loads unless many misses again
    for (const auto &[id, u] : users)
        put_user(c, id, u, *g, entry_scope(c, plan));
}

} // namespace

View view(const Key &key)
{
    Cache &c = cache();
    View v;
    v.globals = current_globals(c);
    v.tenant = tenant_entry(c, key.tenant, v.globals);
    sync(c);
    if (c.globals == v.globals && c.users.peek(key.user, answers_now) == nullptr)
        maybe_bulk_load(c, key, v.globals);
    v.access = user_access(c, key, v.globals);
    return v;
}

std::shared_ptr<const Globals> globals()
{
    return current_globals(cache());
}

namespace {

// Whether the shared table may answer this backend now with globals g: the cache has taken
// in every doorbell heard, g is current and read under the latest snapshot, and the calling
// transaction sees the latest committed catalog (not its own changes, nor a snapshot of its
// own under REPEATABLE READ or SERIALIZABLE, nor a parallel query's).
bool shared_answers(const Cache &c, const Globals *g)
{
    return c.fingerprint != 0 && c.built_generation == inval.generation && c.globals.get() == g &&
           !own_changes && !IsolationUsesXactSnapshot() && !IsInParallelMode();
}

} // namespace

bool shared_answer(const Key &key, int module, const Globals *g, int64_t &until)
{
    Cache &c = cache();
    if (!shared_answers(c, g) ||
        !shared_until(key, c.fingerprint, module, GetCurrentTransactionStartTimestamp(), until))
        return false;
    ++c.shared_hits;
    return true;
}

void share(const Key &key)
{
    Cache &c = cache();
    if (!shared_answers(c, c.globals.get()) || RecoveryInProgress())
        return;
    auto latest = [](uint64_t scope) { return scope == 0; };
    const CachedTenant *t = c.tenants.peek(key.tenant, latest);
    const UserEntry *u = t ? c.users.peek(key.user, latest) : nullptr;
    PairAnswers answers;
    if (u == nullptr || u->timed() ||
        !pack_answers(*c.globals, u->access_in(t->id), *t->entry, GetCurrentTransactionStartTimestamp(),
                      answers))
        return;
    // Every change logged before the cursor has been taken in (evicted, or read after it was visible).
    shared_put(key, c.log_cursor, c.fingerprint, answers);
}

bool cached_until(const Key &key, int module, const Globals *g, int64_t &until)
{
    Cache &c = cache();
    if (c.built_generation != inval.generation || c.globals.get() != g || !answers_now(c.globals_scope))
        return false;
    const CachedTenant *t = c.tenants.peek(key.tenant, answers_now);
    const UserEntry *u = t ? c.users.peek(key.user, answers_now) : nullptr;
    if (u == nullptr || u->timed())
        return false;
    c.hits += 2;
    until = module_until(*g, u->access_in(t->id), *t->entry, module, GetCurrentTransactionStartTimestamp());
    return true;
}

int module_index(const Globals &g, std::string_view code)
{
    auto it = g.module_index.find(lower_ascii(code));
    if (it != g.module_index.end())
        return it->second;
    std::vector<std::string> codes;
    for (const Module &m : g.modules)
        codes.push_back(m.code);
    throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown module code \"" + std::string(code) + "\"", {},
                    "Valid module codes are: " + list_codes(codes) + ".");
}

int permission_index(const Globals &g, std::string_view code)
{
    auto it = g.permission_index.find(lower_ascii(code));
    if (it != g.permission_index.end())
        return it->second;
    throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown permission code \"" + std::string(code) + "\"",
                    {}, "Valid permission codes are: " + list_codes(g.permissions) + ".");
}

UserFacts read_user_now(const Uuid &user, const Globals &g)
{
    return read_user(sentinel_for_read(), read_plan().latest, user, g);
}

std::vector<Uuid> read_former_tenants_now(const Uuid &user)
{
    return read_former_tenants(sentinel_for_read(), read_plan().latest, user);
}

std::unordered_map<Uuid, UserFacts, UuidHash> read_tenant_members_now(const Uuid &tenant, const Globals &g)
{
    return read_tenant_members(sentinel_for_read(), read_plan().latest, tenant, g);
}

std::vector<Uuid> candidate_tenants(const Uuid &user)
{
    return read_candidate_tenants(sentinel_for_read(), read_plan().latest, user);
}

Stats stats()
{
    Cache &c = cache();
    sync(c);
    uint64_t bytes = sizeof(Cache) + c.tenant_ids.bytes() + c.users.bytes() + c.tenants.bytes();
    SharedStats shared = shared_stats();
    return Stats{c.hits,
                 c.misses,
                 inval.count,
                 c.users.evictions() + c.tenants.evictions(),
                 c.users.size() + c.tenants.size(),
                 bytes,
                 budget(),
                 c.shared_hits,
                 shared.entries,
                 shared.bytes};
}

namespace {

// The sentinels, after checking that a trigger fired on a table of clinres's catalog schema.
Sentinels check_trigger_table(Oid fired_on)
{
    Sentinels s = sentinel_relations();
    Oid catalog = InvalidOid, schema = InvalidOid;
    char *name = nullptr;
    pg::call([&] {
        if (OidIsValid(s.globals))
            catalog = get_rel_namespace(s.globals);
        schema = get_rel_namespace(fired_on);
        name = psprintf("%s.%s", get_namespace_name(schema), get_rel_name(fired_on));
    });
    if (!OidIsValid(catalog) || schema != catalog)
        throw pg::Error(
            ERRCODE_INSUFFICIENT_PRIVILEGE,
            "clinres.access_cache_invalidate() fires only on clinres's catalog tables, not on \"" +
                std::string(name) + "\"",
            "Attached to any other table, it would let whoever writes there empty every session's "
            "access cache.");
    return s;
}

// Rings the doorbell relid: this backend hears it at its next command, the others after commit.
void ring(Oid relid)
{
    pg::call([&] { CacheInvalidateRelcacheByRelid(relid); });
}

// Rings a key doorbell, a relation id no relation has: PostgreSQL's relcache invalidation
// is queued from a pg_class row, of which it reads the id and relisshared only, so the
// row is made up (PostgreSQL 15-18). Receivers find no relcache entry to drop.
void ring_key(key_bells::Kind kind, const Uuid &key)
{
    constexpr size_t kHeader = MAXALIGN(SizeofHeapTupleHeader);
    alignas(MAXIMUM_ALIGNOF) static char row[kHeader + sizeof(FormData_pg_class)];
    auto *header = reinterpret_cast<HeapTupleHeader>(row);
    header->t_hoff = kHeader;
    HeapTupleData tuple{};
    tuple.t_len = sizeof row;
    tuple.t_data = header;
    auto *cls = reinterpret_cast<Form_pg_class>(GETSTRUCT(&tuple));
    cls->oid = key_bells::relid_of(kind, key_bells::bucket_of(key));
    cls->relisshared = false;
    pg::call([&] { CacheInvalidateRelcacheByTuple(&tuple); });
}

} // namespace

void invalidate_kind(Oid fired_on, Kind kind)
{
    Sentinels s = check_trigger_table(fired_on);
    own_changes = true;
    if (kind != Kind::Globals && change_log_available()) {
        inval.sentinels = s;     // what on_transaction rings if this transaction is prepared
        pending_overflow = true; // published as a flush: the shared table's entries of the kind are outdated
    }
    ring(kind == Kind::Globals ? s.globals : kind == Kind::Users ? s.users : s.tenants);
}

void invalidate_key(Oid fired_on, ChangeKind kind, const Uuid &key)
{
    Sentinels s = check_trigger_table(fired_on);
    own_changes = true;
    if (!change_log_available()) {
        auto k = kind == ChangeKind::User ? key_bells::Kind::User : key_bells::Kind::Tenant;
        key_bells::Ring r = ringer.change(k, key_bells::bucket_of(key), GetCurrentCommandId(false));
        if (r == key_bells::Ring::Key)
            ring_key(k, key);
        else if (r == key_bells::Ring::Kind)
            ring(kind == ChangeKind::User ? s.users : s.tenants);
        return;
    }
    inval.sentinels = s; // what on_transaction rings if this transaction is prepared
    if (pending.size() < kMaxPending)
        pending.push_back(Change{kind, key});
    else
        pending_overflow = true;
    ring(s.log);
}

} // namespace modaccess
