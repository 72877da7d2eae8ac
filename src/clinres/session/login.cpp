// Settings read by clinres.login (session.sql) and by whatever sets passwords.
#include "clinres/session/login.hpp"

#include "clinres/pg/datum.hpp"

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
}

int bcrypt_cost()
{
    return cost;
}

} // namespace session

CLINRES_FUNCTION(clinres_dummy_hash, session::dummy_hash)
