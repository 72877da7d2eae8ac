// The per-backend cache of session states (registry.hpp). A miss reads clinres.sessions
// under the latest snapshot, as PostgreSQL's own catalog caches do: a commit that ends a
// session is visible before its doorbell is sent, so an entry read this way can only be
// outdated by an invalidation still to come, which begin_call takes at the start of the
// next statement. An entry read while an invalidation arrived is not kept; a rollback
// (of the transaction or a savepoint) empties the cache, since an entry may have been
// read from this transaction's own uncommitted rows. Expiry is a stored instant compared
// with the clock at each check, so it needs no write. last_seen_at lives in a table of its
// own (session_activity), so that a request recording it never holds a lock an ending waits for.
#include "clinres/session/registry.hpp"

#include "clinres/pg/datum.hpp"
#include "clinres/pg/guard.hpp"
#include "clinres/pg/spi.hpp"
#include "clinres/session/signer.hpp"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
}

#include <unordered_map>

namespace session {

namespace {

struct State {
    clinres::Uuid user{}, tenant{};
    TimestampTz expires = 0;
    bool ended = false;
    TimestampTz seen = 0; // the last_seen_at this backend last read or wrote
};

int seen_interval = 60; // seconds: clinres.session_seen_interval

// The cache bounds itself by starting over when it holds this many sessions.
constexpr size_t kCapacity = 10000;

std::unordered_map<clinres::Uuid, State, clinres::UuidHash> &states()
{
    static auto *m =
        new std::unordered_map<clinres::Uuid, State, clinres::UuidHash>(); // lives as long as the backend
    return *m;
}

uint64_t generation = 0; // bumped by every doorbell and rollback
Oid doorbell = InvalidOid;

// Relcache callback: the doorbell (or a full reset) empties the cache at the next check.
void on_relcache_invalidation(Datum, Oid relid)
{
    if (relid == InvalidOid || (relid == doorbell && OidIsValid(doorbell)))
        ++generation;
}

void on_transaction(XactEvent event, void *)
{
    if (event == XACT_EVENT_ABORT)
        ++generation;
}

void on_subtransaction(SubXactEvent event, SubTransactionId, SubTransactionId, void *)
{
    if (event == SUBXACT_EVENT_ABORT_SUB)
        ++generation;
}

uint64_t built_generation = 0;

pg::Statement read_session{
    "SELECT s.user_id, s.tenant_id, s.expires_at, s.ended_at IS NOT NULL,"
    " (SELECT a.last_seen_at FROM clinres.session_activity a"
    "   WHERE a.tenant_id OPERATOR(pg_catalog.=) $1 AND a.id OPERATOR(pg_catalog.=) $2)"
    " FROM clinres.sessions s"
    " WHERE s.tenant_id OPERATOR(pg_catalog.=) $1 AND s.id OPERATOR(pg_catalog.=) $2",
    2,
    {UUIDOID, UUIDOID},
    nullptr};

// The sessions table's oid, and the doorbell's (looked up afresh at each read, so that
// DROP/CREATE EXTENSION is noticed).
Oid sessions_table()
{
    Oid table = InvalidOid, bell = InvalidOid;
    pg::call([&] {
        Oid nsp = get_namespace_oid("clinres", false);
        table = get_relname_relid("sessions", nsp);
        bell = get_relname_relid("session_doorbell", nsp);
        if (!OidIsValid(table) || !OidIsValid(bell))
            ereport(ERROR,
                    (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("clinres.sessions is missing"),
                     errhint("Run ALTER EXTENSION clinres UPDATE.")));
    });
    if (bell != doorbell) {
        doorbell = bell;
        ++generation;
    }
    return table;
}

// The state of the session, from clinres.sessions under the latest snapshot (not found: ended).
State read_state(const clinres::Uuid &session, const clinres::Uuid &tenant)
{
    Oid table = sessions_table();
    pg::OwnerSpi spi(pg::relation_owner(table), true);
    Datum args[2] = {pg::uuid_datum(tenant), pg::uuid_datum(session)};
    pg::Rows rows = spi.run(read_session, args);
    spi.finish();
    State s;
    if (rows.size() == 0) {
        s.ended = true;
        return s;
    }
    std::memcpy(s.user.bytes, rows.at(0, 0).text.data(), 16);
    std::memcpy(s.tenant.bytes, rows.at(0, 1).text.data(), 16);
    s.expires = rows.at(0, 2).num;
    s.ended = rows.at(0, 3).num != 0;
    s.seen = rows.at(0, 4).null ? 0 : rows.at(0, 4).num;
    return s;
}

// Moves the session's last_seen_at to now if it is older than the interval and no other
// transaction is moving it (SKIP LOCKED: a request never waits for another); the value it
// has after that (now, another's, or 0 without an activity row).
pg::Statement touch_session{
    "WITH moved AS (UPDATE clinres.session_activity a SET last_seen_at = pg_catalog.now()"
    "  WHERE a.ctid OPERATOR(pg_catalog.=) (SELECT b.ctid FROM clinres.session_activity b"
    "   WHERE b.tenant_id OPERATOR(pg_catalog.=) $1 AND b.id OPERATOR(pg_catalog.=) $2"
    "     AND b.last_seen_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-)"
    "         pg_catalog.make_interval(secs => $3))"
    "   FOR UPDATE SKIP LOCKED) RETURNING a.last_seen_at)"
    " SELECT coalesce((SELECT m.last_seen_at FROM moved m), (SELECT c.last_seen_at FROM "
    "clinres.session_activity c"
    "   WHERE c.tenant_id OPERATOR(pg_catalog.=) $1 AND c.id OPERATOR(pg_catalog.=) $2))",
    3,
    {UUIDOID, UUIDOID, FLOAT8OID},
    nullptr};

// Whether a request may record that it saw the session: a read-write READ COMMITTED
// transaction on a primary, outside parallel mode (elsewhere last_seen_at waits for the next).
bool may_touch()
{
    return !XactReadOnly && !RecoveryInProgress() && !IsInParallelMode() && !IsolationUsesXactSnapshot();
}

TimestampTz touch(const clinres::Uuid &session, const clinres::Uuid &tenant)
{
    Oid table = sessions_table();
    pg::OwnerSpi spi(pg::relation_owner(table), true);
    Datum args[3] = {pg::uuid_datum(tenant), pg::uuid_datum(session), Float8GetDatum(seen_interval)};
    pg::Rows rows = spi.run(touch_session, args, nullptr, true);
    spi.finish();
    return rows.size() == 0 || rows.at(0, 0).null ? 0 : rows.at(0, 0).num;
}

} // namespace

void init_registry()
{
    DefineCustomIntVariable(
        "clinres.session_seen_interval",
        "How stale clinres.list_sessions' last_seen_at may be: a request records that it saw "
        "its session when the record is older than this.",
        nullptr, &seen_interval, 60, 1, 24 * 3600, PGC_SUSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
    CacheRegisterRelcacheCallback(on_relcache_invalidation, 0);
    RegisterXactCallback(on_transaction, nullptr);
    RegisterSubXactCallback(on_subtransaction, nullptr);
}

void require_live(const clinres::Uuid &session, const clinres::Uuid &user, const clinres::Uuid &tenant)
{
    auto &m = states();
    if (built_generation != generation || m.size() >= kCapacity) {
        m.clear();
        built_generation = generation;
    }
    State s;
    auto it = m.find(session);
    if (it != m.end()) {
        s = it->second;
    } else {
        uint64_t before = generation;
        s = read_state(session, tenant);
        if (generation == before && built_generation == generation)
            m.emplace(session, s);
    }
    if (s.ended || !(s.user == user) || !(s.tenant == tenant))
        reject("The token's session has ended.");
    TimestampTz now = GetCurrentTimestamp();
    if (s.expires <= now)
        reject("The token's session has expired.");
    if (now - s.seen >= static_cast<int64_t>(seen_interval) * USECS_PER_SEC && may_touch()) {
        TimestampTz seen = touch(session, tenant);
        auto cached = m.find(session);
        if (cached != m.end())
            cached->second.seen = seen != 0 ? seen : now;
    }
}

// Whether relid is a Citus placement of clinres.sessions (clinres.sessions_102050): Citus
// fires the placement's copy of the doorbell on every node, each for its own backends. Only
// the schema's owner can create a table in clinres, so the name is as trusted as the table.
static bool is_sessions_placement(Oid relid, Oid table)
{
    bool ok = false;
    pg::call([&] {
        const char *name = get_rel_name(relid);
        if (name == nullptr || get_rel_namespace(relid) != get_rel_namespace(table) ||
            strncmp(name, "sessions_", 9) != 0 || name[9] == '\0')
            return;
        ok = strspn(name + 9, "0123456789") == strlen(name + 9);
    });
    return ok;
}

void ring_doorbell(Oid fired_on)
{
    Oid table = sessions_table();
    if (fired_on != table && !is_sessions_placement(fired_on, table))
        throw pg::Error(
            ERRCODE_INSUFFICIENT_PRIVILEGE, "clinres._session_doorbell() fires only on clinres.sessions",
            "Attached to any other table, it would let whoever writes there empty every session's "
            "cache of sessions.");
    Oid bell = doorbell;
    pg::call([&] { CacheInvalidateRelcacheByRelid(bell); });
}

} // namespace session
