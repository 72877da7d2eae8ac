// Settings read by clinres.login (session.sql) and by whatever sets passwords, and the
// recording of each attempt in a transaction of its own.
#include "clinres/session/login.hpp"

#include "clinres/pg/datum.hpp" // first: it includes pure C++ headers, which refuse to follow PostgreSQL's

#include "clinres/pg/autonomous.hpp"

#include <string>
#include <vector>

namespace session {

namespace {

int max_failures = 5;
int lockout = 15 * 60; // seconds
int cost = 10;

// _dummy_hash() -> a bcrypt setting at clinres.bcrypt_cost that no password matches:
// login verifies against it when the user is unknown, so that it costs the same.
Datum dummy_hash(FunctionCallInfo)
{
    std::string out = "$2a$";
    out += static_cast<char>('0' + cost / 10);
    out += static_cast<char>('0' + cost % 10);
    out += '$';
    out.append(53, '.');
    return pg::text_datum(out);
}

// What an attempt does to the user's row, decided on the newest row version under its row
// lock (so that neither the caller's snapshot nor a concurrent attempt can hide a lock):
// $1 user id (NULL: unknown user), $2 'success', 'failure' or 'none', $3 login_max_failures,
// $4 login_lockout in seconds. A locked account is left as it is (an attempt neither counts
// nor extends the lock); a success needs an active user and resets the count. Every
// outcome runs this one statement, so that every path costs the same.
#define CLINRES_LOGIN_UPDATE                                                                                 \
    "UPDATE clinres.users x\n"                                                                               \
    "   SET failed_logins = CASE WHEN $2 OPERATOR(pg_catalog.=) 'success' THEN 0\n"                          \
    "                            WHEN x.failed_logins OPERATOR(pg_catalog.+) 1\n"                            \
    "                                 OPERATOR(pg_catalog.>=) $3::pg_catalog.int4 THEN 0\n"                  \
    "                            ELSE x.failed_logins OPERATOR(pg_catalog.+) 1 END,\n"                       \
    "       locked_until = CASE WHEN $2 OPERATOR(pg_catalog.=) 'failure'\n"                                  \
    "                            AND x.failed_logins OPERATOR(pg_catalog.+) 1\n"                             \
    "                                OPERATOR(pg_catalog.>=) $3::pg_catalog.int4\n"                          \
    "                           THEN pg_catalog.now() OPERATOR(pg_catalog.+)\n"                              \
    "                                pg_catalog.make_interval(secs => $4::pg_catalog.float8) END,\n"         \
    "       last_login_at = CASE WHEN $2 OPERATOR(pg_catalog.=) 'success' THEN pg_catalog.now()\n"           \
    "                            ELSE x.last_login_at END\n"                                                 \
    " WHERE x.id OPERATOR(pg_catalog.=) $1::pg_catalog.uuid\n"                                               \
    "   AND $2 OPERATOR(pg_catalog.=) ANY ('{success,failure}'::pg_catalog.text[])\n"                        \
    "   AND (x.locked_until IS NULL OR x.locked_until OPERATOR(pg_catalog.<=) pg_catalog.now())\n"           \
    "   AND ($2 OPERATOR(pg_catalog.=) 'failure' OR x.status OPERATOR(pg_catalog.=) 'active')"

// 0.3.0's login (_record_login(user_id, outcome)): the attempt alone.
const pg::AutonomousStatement record_attempt = {
    "login attempt",
    CLINRES_LOGIN_UPDATE,
    4,
    1000, // lock_timeout: another attempt's record holds the row for milliseconds
    5000, // statement_timeout
    1000, // slot_wait: a burst of logins waits for the workers before it, then fails closed
};

// 0.4.0's login: the attempt, the session of a success that proceeds, and the attempt's
// audit row(s), committed together. $5 session id, $6 tenant id and $7 expiry (Unix seconds)
// of a success (or the membership's valid_until, if earlier), $8 the SHA-256 (hex) of the hash
// the password was verified against: a success proceeds only if the newest row still has it (a
// reset that committed after login read the row refuses the old password). A known user's attempt is
// recorded as login (in the session's tenant), login_failed, login_locked (the failure that
// locked the account) or login_refused (it changed nothing: locked, disabled, or no tenant to
// enter), the last three in each tenant of the user (platform-wide when it has none); an
// unknown identifier names nobody to record.
const pg::AutonomousStatement record_attempt_session = {
    "login attempt with session",
    "WITH attempt AS (" CLINRES_LOGIN_UPDATE "\n"
    "   AND ($2 OPERATOR(pg_catalog.<>) 'success' OR pg_catalog.encode(pg_catalog.sha256(\n"
    "        pg_catalog.convert_to(x.password_hash, 'UTF8')), 'hex') OPERATOR(pg_catalog.=) $8)\n"
    " RETURNING x.id, x.locked_until IS NOT NULL AS locked),\n"
    "session AS (INSERT INTO clinres.sessions (tenant_id, id, user_id, expires_at)\n"
    " SELECT $6::pg_catalog.uuid, $5::pg_catalog.uuid, a.id, "
    "LEAST(pg_catalog.to_timestamp($7::pg_catalog.float8),\n"
    "        (SELECT ut.valid_until FROM clinres.user_tenants ut WHERE ut.tenant_id OPERATOR(pg_catalog.=)\n"
    "          $6::pg_catalog.uuid AND ut.user_id OPERATOR(pg_catalog.=) a.id))\n"
    "   FROM attempt a WHERE $2 OPERATOR(pg_catalog.=) 'success' AND $5 IS NOT NULL\n"
    " RETURNING id, tenant_id),\n"
    "activity AS (INSERT INTO clinres.session_activity (tenant_id, id) SELECT s.tenant_id, s.id FROM session "
    "s),\n"
    "outcome AS (SELECT CASE WHEN EXISTS (SELECT FROM session) THEN 'login'\n"
    "                        WHEN NOT EXISTS (SELECT FROM attempt) THEN 'login_refused'\n"
    "                        WHEN (SELECT a.locked FROM attempt a) THEN 'login_locked'\n"
    "                        WHEN $2 OPERATOR(pg_catalog.=) 'failure' THEN 'login_failed'\n"
    "                        ELSE 'login_refused' END AS action),\n"
    "logged AS (INSERT INTO clinres.admin_logs (actor_id, tenant_id, action, target, detail)\n"
    " SELECT $1::pg_catalog.uuid, t.tenant_id, o.action, $1, pg_catalog.jsonb_strip_nulls(\n"
    "        pg_catalog.jsonb_build_object('session_id', t.session_id))\n"
    "   FROM outcome o, LATERAL (\n"
    "        SELECT s.tenant_id, s.id AS session_id FROM session s\n"
    "        UNION ALL SELECT ut.tenant_id, NULL FROM clinres.user_tenants ut\n"
    "         WHERE ut.user_id OPERATOR(pg_catalog.=) $1::pg_catalog.uuid AND NOT EXISTS (SELECT FROM "
    "session)\n"
    "        UNION ALL SELECT NULL, NULL WHERE NOT EXISTS (SELECT FROM session) AND NOT EXISTS (\n"
    "              SELECT FROM clinres.user_tenants ut WHERE ut.user_id OPERATOR(pg_catalog.=) "
    "$1::pg_catalog.uuid)\n"
    "        ) t\n"
    "  WHERE $1 IS NOT NULL\n"
    "  ORDER BY t.tenant_id)\n"
    "SELECT a.id FROM attempt a",
    8,
    1000,
    5000,
    1000,
};

// Records an attempt with stmt, whose first two arguments are the user id and the outcome:
// whether the attempt changed the user's row (for a success: whether it may proceed), or NULL
// if it could not be recorded (then a WARNING says why, and login fails closed). Recorded in
// a transaction of its own, committed before this returns, so that no rollback of the
// caller's undoes it.
Datum record(FunctionCallInfo fcinfo, const pg::AutonomousStatement &stmt,
             std::vector<std::optional<std::string>> more)
{
    if (PG_ARGISNULL(1))
        throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "login outcome must not be null");
    std::string outcome(pg::text_arg(fcinfo, 1));
    if (outcome != "success" && outcome != "failure" && outcome != "none")
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown login outcome \"" + outcome + "\"", {},
                        "Use one of: success, failure, none.");
    std::optional<std::string> user;
    if (!PG_ARGISNULL(0))
        user = pg::to_string(pg::uuid_arg(fcinfo, 0));
    std::vector<std::optional<std::string>> args = {user, outcome, std::to_string(max_failures),
                                                    std::to_string(lockout)};
    args.insert(args.end(), more.begin(), more.end());
    pg::AutonomousResult r = pg::run_autonomous(stmt, args);
    if (!r.ran) {
        pg::call([&] {
            ereport(WARNING, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                              errmsg("clinres.login could not record the attempt: %s", r.why.c_str()),
                              errdetail("The login was refused, whatever the password."),
                              r.hint.empty() ? 0 : errhint("%s", r.hint.c_str())));
        });
        PG_RETURN_NULL();
    }
    return BoolGetDatum(r.rows > 0);
}

// _record_login(user_id, outcome) -> as record (0.3.0's login calls it).
Datum record_login(FunctionCallInfo fcinfo)
{
    return record(fcinfo, record_attempt, {});
}

// _record_login(user_id, outcome, session_id, tenant_id, expires_unix, verified_hash_sha256)
// -> as record; a success that proceeds also creates the session, and a known user's attempt
// is audited.
Datum record_login_session(FunctionCallInfo fcinfo)
{
    auto opt_uuid = [&](int i) -> std::optional<std::string> {
        if (PG_ARGISNULL(i))
            return std::nullopt;
        return pg::to_string(pg::uuid_arg(fcinfo, i));
    };
    std::optional<std::string> expires;
    if (!PG_ARGISNULL(4))
        expires = std::to_string(PG_GETARG_INT64(4));
    std::optional<std::string> verified;
    if (!PG_ARGISNULL(5))
        verified = std::string(pg::text_arg(fcinfo, 5));
    return record(fcinfo, record_attempt_session, {opt_uuid(2), opt_uuid(3), expires, verified});
}

} // namespace

void init_login()
{
    DefineCustomIntVariable("clinres.login_max_failures",
                            "Failed clinres.login attempts after which an account is locked.", nullptr,
                            &max_failures, 5, 1, 1000, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("clinres.login_lockout",
                            "How long an account stays locked after too many failures.", nullptr, &lockout,
                            15 * 60, 1, 365 * 24 * 3600, PGC_SUSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("clinres.bcrypt_cost", "The bcrypt cost (log2 rounds) of new password hashes.",
                            nullptr, &cost, 10, 4, 31, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    pg::define_autonomous(record_attempt);
    pg::define_autonomous(record_attempt_session);
}

int bcrypt_cost()
{
    return cost;
}

} // namespace session

CLINRES_FUNCTION(clinres_dummy_hash, session::dummy_hash)
CLINRES_FUNCTION(clinres_record_login, session::record_login)
CLINRES_FUNCTION(clinres_record_login_session, session::record_login_session)
