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
// ring nothing) names one user or tenant: when clinres is preloaded, the trigger notes
// the key, the commit appends it to a shared log (change_log.cpp) after the change is
// visible and before the doorbell goes out, and a backend that hears the log doorbell
// evicts just the logged keys (all users and tenants if the log overflowed). Without
// the log, and for TRUNCATE, the users or tenants doorbell empties that kind only.
// This backend's own uncommitted keys are evicted at its next command, and both kinds
// are dropped if its transaction rolls back. Two details make it exact:
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
// Cold starts: a statement that has read 8 users one by one reads the rest in bulk (every
// user in one query if they fill at most half the cache, else each tenant's members).
// expires_at is stored, not evaluated, so a subscription that lapses needs no write.
// Memory is bounded by clinres.access_cache_size entries (of users, and separately
// of tenants), replaced by CLOCK. Entries are shared_ptrs, so an answer being
// computed keeps its entries alive even if an invalidation empties the cache.
#include "clinres/access/cache.hpp"

#include "clinres/access/catalog_reader.hpp"
#include "clinres/access/change_log.hpp"
#include "clinres/access/clock_map.hpp"
#include "clinres/pg/guard.hpp"

extern "C" {
#include "access/parallel.h"
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
} inval;

// This transaction's changed keys, published at commit (when the shared log exists).
std::vector<Change> pending;
bool pending_overflow = false;
constexpr size_t kMaxPending = 4096;

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

int capacity_guc = 10000;

bool answers_now(uint64_t scope)
{
    return scope == 0 || scope == stmt.epoch || scope == stmt.transaction;
}

struct Cache {
    uint64_t built_generation = 0;
    uint64_t log_cursor = change_log_available() ? change_log_head() : 0;
    uint64_t globals_scope = 0;
    std::shared_ptr<const Globals> globals;
    ClockMap<UserEntry> users;
    ClockMap<TenantEntry> tenants;
    uint64_t hits = 0, misses = 0;
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

// Relcache callback: notes what a doorbell (or a full reset) asks to drop.
void on_relcache_invalidation(Datum, Oid relid)
{
    const Sentinels &s = inval.sentinels;
    if (relid == InvalidOid || relid == s.globals)
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

// Evicts the keys the log holds since the last read, and this transaction's own.
void evict_logged(Cache &c)
{
    std::vector<Change> changes(pending);
    if (!read_changes(c.log_cursor, changes) || pending_overflow) {
        c.users.clear();
        c.tenants.clear();
        return;
    }
    evict(c, changes);
}

// Drops what the doorbells heard since the last sync asked for.
void sync(Cache &c)
{
    size_t capacity = static_cast<size_t>(capacity_guc);
    if (c.built_generation == inval.generation && !c.users.over(capacity) && !c.tenants.over(capacity))
        return;
    bool all = inval.drop_all, users = inval.drop_users || c.users.over(capacity),
         tenants = inval.drop_tenants || c.tenants.over(capacity), log = inval.read_log;
    inval.drop_all = inval.drop_users = inval.drop_tenants = inval.read_log = false;
    c.built_generation = inval.generation;
    if (all) {
        c.globals.reset();
        users = tenants = true;
    }
    if (users)
        c.users.clear();
    if (tenants)
        c.tenants.clear();
    if (log && change_log_available())
        evict_logged(c);
    else if (log)
        evict(c, pending);
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
    c.users.clear(); // entries index modules as the replaced globals did
    c.tenants.clear();
    c.globals = g;
    c.globals_scope = plan.scope;
    return g;
}

// The cached entry for id in map, or one read with read(sentinel, latest, id, globals).
template <typename V, typename Read>
std::shared_ptr<const V> entry(Cache &c, ClockMap<V> &map, const Uuid &id,
                               const std::shared_ptr<const Globals> &g, Read read)
{
    sync(c);
    if (c.globals == g) {
        if (auto hit = map.find(id, answers_now)) {
            ++c.hits;
            return hit;
        }
    }
    ++c.misses;
    ReadPlan plan = read_plan();
    auto value = std::make_shared<const V>(read(sentinel_for_read(), plan.latest, id, *g));
    sync(c);
    if (c.globals == g) // not if an invalidation replaced the globals meanwhile
        map.put(id, c.globals_scope != 0 ? c.globals_scope : plan.scope, value,
                static_cast<size_t>(capacity_guc));
    return value;
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
    DefineCustomIntVariable(
        "clinres.access_cache_size",
        "Maximum number of users (and, separately, tenants) whose access data a session caches.",
        "When full, the least recently used entries are replaced.", &capacity_guc, 10000, 1, 10000000,
        PGC_USERSET, 0, nullptr, nullptr, nullptr);
    CacheRegisterRelcacheCallback(on_relcache_invalidation, 0);
    RegisterXactCallback(on_transaction, nullptr);
}

void begin_call()
{
    LocalTransactionId lxid = MyProc->lxid;
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

// Puts bulk-read users into the cache.
void put_users(Cache &c, std::unordered_map<Uuid, UserEntry, UuidHash> &users, uint64_t scope)
{
    size_t capacity = static_cast<size_t>(capacity_guc);
    for (auto &[id, u] : users)
        c.users.put(id, scope, std::make_shared<const UserEntry>(std::move(u)), capacity);
}

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
    size_t capacity = static_cast<size_t>(capacity_guc);
    auto users = everyone ? read_all_users(sentinel_for_read(), plan.latest, *g, capacity / 2)
                          : read_tenant_members(sentinel_for_read(), plan.latest, key.tenant, *g);
    sync(c);
    if (c.globals != g || users.size() > capacity / 2) // replaced meanwhile, or too many
        return;
    if (everyone && !users.empty())
        c.epoch_misses = 0; // every user is cached: no tenant loads unless many misses again
    put_users(c, users, c.globals_scope != 0 ? c.globals_scope : plan.scope);
}

} // namespace

View view(const Key &key)
{
    Cache &c = cache();
    View v;
    v.globals = current_globals(c);
    v.tenant_id = key.tenant;
    v.tenant = entry(c, c.tenants, key.tenant, v.globals, read_tenant);
    sync(c);
    if (c.globals == v.globals && c.users.peek(key.user, answers_now) == nullptr)
        maybe_bulk_load(c, key, v.globals);
    v.user = entry(c, c.users, key.user, v.globals, read_user);
    return v;
}

std::shared_ptr<const Globals> globals()
{
    return current_globals(cache());
}

bool cached_until(const Key &key, int module, const Globals *g, int64_t &until)
{
    Cache &c = cache();
    if (c.built_generation != inval.generation || c.globals.get() != g || !answers_now(c.globals_scope))
        return false;
    const TenantEntry *t = c.tenants.peek(key.tenant, answers_now);
    const UserEntry *u = t ? c.users.peek(key.user, answers_now) : nullptr;
    if (u == nullptr)
        return false;
    c.hits += 2;
    until = module_until(*g, *u, *t, key.tenant, module);
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

std::vector<Uuid> candidate_tenants(const Uuid &user)
{
    return read_candidate_tenants(sentinel_for_read(), read_plan().latest, user);
}

Stats stats()
{
    Cache &c = cache();
    sync(c);
    uint64_t bytes = sizeof(Cache);
    bytes += c.users.bytes([](const UserEntry &u) {
        uint64_t b = u.platform_role.capacity() + u.memberships.capacity() * sizeof(Membership);
        for (const Membership &m : u.memberships)
            b += m.role.capacity();
        return b;
    });
    bytes +=
        c.tenants.bytes([](const TenantEntry &t) { return t.subscribed_until.capacity() * sizeof(int64_t); });
    return Stats{c.hits,
                 c.misses,
                 inval.count,
                 c.users.evictions() + c.tenants.evictions(),
                 c.users.size() + c.tenants.size(),
                 bytes,
                 static_cast<uint64_t>(capacity_guc)};
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

} // namespace

void invalidate_kind(Oid fired_on, Kind kind)
{
    Sentinels s = check_trigger_table(fired_on);
    ring(kind == Kind::Globals ? s.globals : kind == Kind::Users ? s.users : s.tenants);
}

void invalidate_key(Oid fired_on, ChangeKind kind, const Uuid &key)
{
    Sentinels s = check_trigger_table(fired_on);
    if (!change_log_available()) {
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
