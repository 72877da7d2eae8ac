// Settings read by clinres.login (session.sql) and by whatever sets passwords, and the
// recording of each attempt in a transaction of its own.
#include "clinres/session/login.hpp"

#include "clinres/pg/datum.hpp" // first: it includes pure C++ headers, which refuse to follow PostgreSQL's

#include "clinres/pg/autonomous.hpp"

#include <string>

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
const pg::AutonomousStatement record_attempt = {
    "login attempt",
    "UPDATE clinres.users x\n"
    "   SET failed_logins = CASE WHEN $2 OPERATOR(pg_catalog.=) 'success' THEN 0\n"
    "                            WHEN x.failed_logins OPERATOR(pg_catalog.+) 1\n"
    "                                 OPERATOR(pg_catalog.>=) $3::pg_catalog.int4 THEN 0\n"
    "                            ELSE x.failed_logins OPERATOR(pg_catalog.+) 1 END,\n"
    "       locked_until = CASE WHEN $2 OPERATOR(pg_catalog.=) 'failure'\n"
    "                            AND x.failed_logins OPERATOR(pg_catalog.+) 1\n"
    "                                OPERATOR(pg_catalog.>=) $3::pg_catalog.int4\n"
    "                           THEN pg_catalog.now() OPERATOR(pg_catalog.+)\n"
    "                                pg_catalog.make_interval(secs => $4::pg_catalog.float8) END,\n"
    "       last_login_at = CASE WHEN $2 OPERATOR(pg_catalog.=) 'success' THEN pg_catalog.now()\n"
    "                            ELSE x.last_login_at END\n"
    " WHERE x.id OPERATOR(pg_catalog.=) $1::pg_catalog.uuid\n"
    "   AND $2 OPERATOR(pg_catalog.=) ANY ('{success,failure}'::pg_catalog.text[])\n"
    "   AND (x.locked_until IS NULL OR x.locked_until OPERATOR(pg_catalog.<=) pg_catalog.now())\n"
    "   AND ($2 OPERATOR(pg_catalog.=) 'failure' OR x.status OPERATOR(pg_catalog.=) 'active')",
    4,
    1000, // lock_timeout: another attempt's record holds the row for milliseconds
    5000, // statement_timeout
    1000, // slot_wait: a burst of logins waits for the workers before it, then fails closed
};

// _record_login(user_id, outcome) -> whether the attempt changed the user's row (for a
// success: whether it may proceed), or NULL if it could not be recorded (then a WARNING
// says why, and login fails closed). Recorded in a transaction of its own, committed
// before this returns, so that no rollback of the caller's undoes it.
Datum record_login(FunctionCallInfo fcinfo)
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
    pg::AutonomousResult r = pg::run_autonomous(
        record_attempt, {user, outcome, std::to_string(max_failures), std::to_string(lockout)});
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
}

int bcrypt_cost()
{
    return cost;
}

} // namespace session

CLINRES_FUNCTION(clinres_dummy_hash, session::dummy_hash)
CLINRES_FUNCTION(clinres_record_login, session::record_login)
