// Ending sessions (docs/sessions.md, "Sessions"): the doorbell trigger of clinres.sessions,
// and logout's and revoke_sessions' ending, which commits with its audit rows in a
// transaction of its own, so that no rollback of the caller's revives the session.
#include "clinres/pg/datum.hpp" // first: it includes pure C++ headers, which refuse to follow PostgreSQL's

#include "clinres/pg/autonomous.hpp"
#include "clinres/session/registry.hpp"

extern "C" {
#include "commands/trigger.h"
}

#include <string>

namespace session {

namespace {

// $1 actor, $2 user, $3 session ids (uuid[] as text), $4 end_reason ('logout' or 'revoked'),
// $5 change reason: the user's live sessions among $3 end now, each with one audit row in
// its tenant (logout or revoke_session).
const pg::AutonomousStatement end_sessions = {
    "end sessions",
    "WITH ended AS (UPDATE clinres.sessions s\n"
    "   SET ended_at = pg_catalog.now(), end_reason = $4\n"
    " WHERE s.user_id OPERATOR(pg_catalog.=) $2::pg_catalog.uuid\n"
    "   AND s.id OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.uuid[])\n"
    "   AND s.ended_at IS NULL AND s.expires_at OPERATOR(pg_catalog.>) pg_catalog.now()\n"
    " RETURNING s.id, s.tenant_id),\n"
    "logged AS (INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail, change_reason)\n"
    " SELECT $1::pg_catalog.uuid, e.tenant_id,\n"
    "        CASE $4 WHEN 'logout' THEN 'logout' ELSE 'revoke_session' END, $2,\n"
    "        pg_catalog.jsonb_build_object('session_id', e.id), $5\n"
    "   FROM ended e ORDER BY e.tenant_id, e.id)\n"
    "SELECT e.id FROM ended e",
    5,
    1000, // lock_timeout: a session row is held for milliseconds (another ending)
    5000, // statement_timeout
    1000, // slot_wait
};

std::optional<std::string> text_or_null(FunctionCallInfo fcinfo, int i)
{
    if (PG_ARGISNULL(i))
        return std::nullopt;
    return std::string(pg::text_arg(fcinfo, i));
}

// _end_sessions_autonomously(actor, user_id, session_ids text, end_reason, change_reason) ->
// how many ended; 55000 if it could not be done.
Datum end_sessions_autonomously(FunctionCallInfo fcinfo)
{
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
        throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "user, sessions and reason must not be null");
    std::string reason(pg::text_arg(fcinfo, 3));
    if (reason != "logout" && reason != "revoked")
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown end reason \"" + reason + "\"", {},
                        "Use logout or revoked.");
    std::optional<std::string> actor;
    if (!PG_ARGISNULL(0))
        actor = pg::to_string(pg::uuid_arg(fcinfo, 0));
    pg::AutonomousResult r = pg::run_autonomous(end_sessions, {actor, pg::to_string(pg::uuid_arg(fcinfo, 1)),
                                                               std::string(pg::text_arg(fcinfo, 2)), reason,
                                                               text_or_null(fcinfo, 4)});
    if (!r.ran)
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "could not end the sessions: " + r.why,
                        "Nothing was ended.", r.hint);
    return Int32GetDatum(static_cast<int32>(r.rows));
}

// Trigger on clinres.sessions: a session ended, changed or was deleted; every backend
// drops its cached sessions.
Datum session_doorbell(FunctionCallInfo fcinfo)
{
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "_session_doorbell must be called as a trigger");
    auto *td = reinterpret_cast<TriggerData *>(fcinfo->context);
    ring_doorbell(RelationGetRelid(td->tg_relation));
    return PointerGetDatum(TRIGGER_FIRED_FOR_ROW(td->tg_event) ? td->tg_trigtuple : nullptr);
}

} // namespace

void init_ending()
{
    pg::define_autonomous(end_sessions);
}

} // namespace session

CLINRES_FUNCTION(clinres_end_sessions_autonomously, session::end_sessions_autonomously)
CLINRES_FUNCTION(clinres_session_doorbell, session::session_doorbell)
