// The per-backend cache of session states (registry.hpp). A miss reads clinres.sessions
// under the latest snapshot, as PostgreSQL's own catalog caches do: a commit that ends a
// session is visible before its doorbell is sent, so an entry read this way can only be
// outdated by an invalidation still to come, which begin_call takes at the start of the
// next statement. An entry read while an invalidation arrived is not kept; a rollback
// (of the transaction or a savepoint) empties the cache, since an entry may have been
// read from this transaction's own uncommitted rows. Expiry is a stored instant compared
// with the clock at each check, so it needs no write.
#include "clinres/session/registry.hpp"

#include "clinres/pg/datum.hpp"
#include "clinres/pg/guard.hpp"
#include "clinres/pg/spi.hpp"
#include "clinres/session/signer.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/inval.h"
}

#include <unordered_map>

namespace session {

namespace {

struct State {
    clinres::Uuid user{}, tenant{};
    TimestampTz expires = 0;
    bool ended = false;
};

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

pg::Statement read_session{"SELECT s.user_id, s.tenant_id, s.expires_at, s.ended_at IS NOT NULL"
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
    return s;
}

} // namespace

void init_registry()
{
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
    if (s.expires <= GetCurrentTimestamp())
        reject("The token's session has expired.");
}

void ring_doorbell(Oid fired_on)
{
    Oid table = sessions_table();
    if (fired_on != table)
        throw pg::Error(
            ERRCODE_INSUFFICIENT_PRIVILEGE, "clinres._session_doorbell() fires only on clinres.sessions",
            "Attached to any other table, it would let whoever writes there empty every session's "
            "cache of sessions.");
    Oid bell = doorbell;
    pg::call([&] { CacheInvalidateRelcacheByRelid(bell); });
}

} // namespace session
