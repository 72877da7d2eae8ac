// Backend-local cache of module-access decisions, never stale.
//
// How freshness works. Triggers on every catalog table that decides access send a
// relcache invalidation for one fixed relation, clinres.modules (the "sentinel"; a
// fixed relation rather than TG_RELID so it also works on Citus placements).
// PostgreSQL delivers it to this backend at its next command and to every other
// backend after commit, and replays it here on rollback; a callback registered with
// CacheRegisterRelcacheCallback bumps `generation`, which empties the cache. This is
// the mechanism PostgreSQL uses for its own caches (and Citus for its metadata), so
// TRUNCATE, COPY and plain SQL are covered, with no polling and nothing on the hit
// path. Two details make it exact:
// - Invalidations are read when a backend starts a transaction or takes a new lock,
//   and a cache hit takes no lock. So the first call of each statement (begin_call)
//   calls AcceptInvalidationMessages: one unlocked load when the queue is empty.
// - A miss reads the catalog the way the system caches do, under the latest
//   snapshot: a commit is visible before its invalidation is sent, so an entry read
//   this way can only be outdated by an invalidation that is still to come. Where
//   the latest snapshot must not be used, the entry is kept only as long as the
//   snapshot it was read under: for the transaction under REPEATABLE READ and
//   SERIALIZABLE (which see their snapshot), for the statement in a parallel leader,
//   and for the worker's life in a parallel worker.
// expires_at is stored, not evaluated, so a subscription that lapses needs no write.
// Memory is bounded by clinres.access_cache_size entries, replaced by CLOCK.
#include "access/cache.hpp"

#include "access/catalog_reader.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "access/parallel.h"
}

#include <memory>
#include <unordered_map>

namespace modaccess {

namespace {

// Written by the invalidation callback: plain data only.
struct Invalidation {
    uint64_t generation = 1;    // bumped by every catalog invalidation
    uint64_t count = 0;
    Oid sentinel = InvalidOid;  // clinres.modules in this database, once looked up
} inval;

// Which statement and transaction the backend is in, as scope tags for entries.
constexpr uint64_t kTransactionTag = uint64_t(1) << 63;
struct Statement {
    LocalTransactionId lxid = InvalidLocalTransactionId;
    TimestampTz start = 0;
    CommandId command = InvalidCommandId;
    uint64_t epoch = 1;                       // a new one per statement
    uint64_t transaction = kTransactionTag;   // a new one per transaction
} stmt;

int capacity_guc = 10000;

struct Slot {
    Key key;
    uint64_t scope;  // 0: kept until invalidated; else the statement or transaction tag it answers for
    bool referenced;
    Access access;
};

struct Cache {
    uint64_t built_generation = 0;
    bool have_globals = false;
    uint64_t globals_scope = 0;
    Globals globals;
    std::vector<Slot> slots;
    std::unordered_map<Key, uint32_t, KeyHash> index;
    size_t hand = 0;
    uint64_t hits = 0, misses = 0, evictions = 0;
};

Cache &cache()
{
    static Cache *c = new Cache();  // lives as long as the backend
    return *c;
}

// Relcache callback: any invalidation of the sentinel, or a full reset, empties the cache.
void on_relcache_invalidation(Datum, Oid relid)
{
    if (relid != InvalidOid && relid != inval.sentinel)
        return;
    ++inval.generation;
    ++inval.count;
}

// Empties the cache if an invalidation arrived since it was filled.
void sync(Cache &c)
{
    if (c.built_generation == inval.generation && c.slots.size() <= static_cast<size_t>(capacity_guc))
        return;
    c.slots.clear();
    c.index.clear();
    c.hand = 0;
    c.have_globals = false;
    c.built_generation = inval.generation;
}

// The sentinel, looked up afresh for every read so DROP/CREATE EXTENSION is noticed.
Oid sentinel_for_read()
{
    Oid relid = sentinel_relation();
    if (!OidIsValid(relid))
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "extension \"clinres\" is not installed in this database");
    if (relid != inval.sentinel) {
        // A new incarnation of the extension: nothing cached before can stand.
        inval.sentinel = relid;
        on_relcache_invalidation(0, relid);
    }
    return relid;
}

// How the next catalog read is made, and how long what it returns may answer.
struct ReadPlan {
    bool latest;
    uint64_t scope;
};

ReadPlan read_plan()
{
    if (IsParallelWorker())
        return {false, 0};  // the worker ends with the statement
    if (IsInParallelMode())
        return {false, stmt.epoch};  // GetLatestSnapshot is not allowed here
    if (IsolationUsesXactSnapshot())
        return {false, stmt.transaction};
    return {true, 0};
}

// Takes a slot for a new entry, evicting by CLOCK when the cache is full.
uint32_t allocate_slot(Cache &c)
{
    if (c.slots.size() < static_cast<size_t>(capacity_guc)) {
        c.slots.emplace_back();
        return static_cast<uint32_t>(c.slots.size() - 1);
    }
    for (;;) {
        uint32_t i = static_cast<uint32_t>(c.hand);
        c.hand = (c.hand + 1) % c.slots.size();
        if (c.slots[i].referenced) {
            c.slots[i].referenced = false;
            continue;
        }
        c.index.erase(c.slots[i].key);
        ++c.evictions;
        return i;
    }
}

bool answers_now(uint64_t scope) { return scope == 0 || scope == stmt.epoch || scope == stmt.transaction; }

// Ensures the globals are loaded and current, and returns them.
const Globals &ensure_globals(Cache &c)
{
    sync(c);
    if (c.have_globals && answers_now(c.globals_scope))
        return c.globals;
    ReadPlan plan = read_plan();
    Globals read = read_globals(sentinel_for_read(), plan.latest);
    sync(c);
    c.slots.clear();  // entries were decided with the globals being replaced
    c.index.clear();
    c.hand = 0;
    c.globals = std::move(read);
    c.globals_scope = plan.scope;
    c.have_globals = true;
    return c.globals;
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

}  // namespace

void init_cache()
{
    DefineCustomIntVariable("clinres.access_cache_size",
                            "Maximum number of (user, tenant) access records kept per session.",
                            "When full, the least recently used records are replaced.", &capacity_guc, 10000, 1,
                            10000000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    CacheRegisterRelcacheCallback(on_relcache_invalidation, 0);
}

void begin_call()
{
    LocalTransactionId lxid = MyProc->lxid;
    TimestampTz start = GetCurrentStatementStartTimestamp();
    CommandId command = GetCurrentCommandId(false);
    if (lxid == stmt.lxid && start == stmt.start && command == stmt.command)
        return;
    if (lxid != stmt.lxid)
        ++stmt.transaction;
    stmt.lxid = lxid;
    stmt.start = start;
    stmt.command = command;
    ++stmt.epoch;
    pg::call([] { AcceptInvalidationMessages(); });
}

uint64_t generation() { return inval.generation; }
uint64_t epoch() { return stmt.epoch; }
void count_hit() { ++cache().hits; }

const Globals &globals() { return ensure_globals(cache()); }

const Access &lookup(const Key &key)
{
    Cache &c = cache();
    sync(c);
    auto it = c.index.find(key);
    if (it != c.index.end() && answers_now(c.slots[it->second].scope)) {
        Slot &hit = c.slots[it->second];
        hit.referenced = true;
        ++c.hits;
        return hit.access;
    }
    ++c.misses;
    ensure_globals(c);
    ReadPlan plan = read_plan();
    Facts facts = read_facts(sentinel_for_read(), plan.latest, key);
    const Globals &g = ensure_globals(c);  // reloads if the read let an invalidation in
    uint64_t scope = c.globals_scope != 0 ? c.globals_scope : plan.scope;
    it = c.index.find(key);
    uint32_t i = it != c.index.end() ? it->second : allocate_slot(c);
    Slot &slot = c.slots[i];
    slot.key = key;
    slot.scope = scope;
    slot.referenced = true;
    slot.access = decide(facts, g);
    c.index[key] = i;
    return slot.access;
}

int module_index(std::string_view code)
{
    const Globals &g = globals();
    auto it = g.module_index.find(lower_ascii(code));
    if (it != g.module_index.end())
        return it->second;
    std::vector<std::string> codes;
    for (const Module &m : g.modules)
        codes.push_back(m.code);
    throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown module code \"" + std::string(code) + "\"", {},
                    "Valid module codes are: " + list_codes(codes) + ".");
}

int permission_index(std::string_view code)
{
    const Globals &g = globals();
    auto it = g.permission_index.find(lower_ascii(code));
    if (it != g.permission_index.end())
        return it->second;
    throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown permission code \"" + std::string(code) + "\"", {},
                    "Valid permission codes are: " + list_codes(g.permissions) + ".");
}

std::vector<Uuid> candidate_tenants(const Uuid &user)
{
    return read_candidate_tenants(sentinel_for_read(), read_plan().latest, user);
}

Stats stats()
{
    Cache &c = cache();
    sync(c);
    uint64_t bytes = sizeof(Cache) + c.slots.capacity() * sizeof(Slot) +
                     c.index.bucket_count() * sizeof(void *) +
                     c.index.size() * (sizeof(Key) + sizeof(uint32_t) + 2 * sizeof(void *));
    for (const Slot &s : c.slots)
        bytes += s.access.until.capacity() * sizeof(int64_t) + (s.access.permissions.capacity() + 7) / 8;
    return Stats{c.hits, c.misses, inval.count, c.evictions, c.index.size(), bytes,
                 static_cast<uint64_t>(capacity_guc)};
}

void invalidate_catalog()
{
    Oid relid = sentinel_relation();
    if (OidIsValid(relid))
        pg::call([&] { CacheInvalidateRelcacheByRelid(relid); });
}

}  // namespace modaccess
