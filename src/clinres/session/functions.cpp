// SQL entry points of sessions (docs/sessions.md): set_context, set_session,
// begin_request in both forms, and the token signer behind login.
#include "clinres/access/cache.hpp"
#include "clinres/pg/datum.hpp"
#include "clinres/session/context.hpp"
#include "clinres/session/signer.hpp"

#include <string>

namespace session {

namespace {

using modaccess::Key;

// Appends s as a JSON string.
void append_json_string(std::string &out, std::string_view s)
{
    out += '"';
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
}

// Sets the transaction's context to key, checks module and returns what a request needs.
Datum request(const Key &key, std::string_view code, bool signed_by_token)
{
    auto g = modaccess::globals();
    int module = modaccess::module_index(*g, code); // 22023 for an unknown code
    const std::string &canonical = g->modules[module].code;
    modaccess::set_context(&key.user, &key.tenant, true, signed_by_token);
    modaccess::View v = modaccess::view(key);
    TimestampTz now = GetCurrentTransactionStartTimestamp();
    if (!(now < v.until(module)))
        throw pg::Error::denial("module", canonical, "permission denied for module \"" + canonical + "\"",
                                "User " + pg::to_string(key.user) + " may not use module \"" + canonical +
                                    "\" in tenant " + pg::to_string(key.tenant) + ".");
    std::string json = "{\"user_id\": ";
    append_json_string(json, pg::to_string(key.user));
    json += ", \"tenant_id\": ";
    append_json_string(json, pg::to_string(key.tenant));
    json += ", \"module\": ";
    append_json_string(json, canonical);
    json += ", \"role\": ";
    if (v.access.member && v.access.role != modaccess::kNoRole)
        append_json_string(json, v.globals->roles[v.access.role]);
    else
        json += "null";
    json += ", \"platform_role\": ";
    if (v.access.platform_role == modaccess::kNoRole)
        json += "null";
    else
        append_json_string(json, v.globals->roles[v.access.platform_role]);
    json += ", \"permissions\": [";
    bool first = true;
    for (size_t p = 0; p < v.globals->permissions.size(); ++p)
        if (v.permission(static_cast<int>(p))) {
            json += first ? "" : ", ";
            first = false;
            append_json_string(json, v.globals->permissions[p]);
        }
    json += "], \"modules\": [";
    first = true;
    for (size_t i = 0; i < v.globals->modules.size(); ++i)
        if (now < v.until(static_cast<int>(i))) {
            json += first ? "" : ", ";
            first = false;
            append_json_string(json, v.globals->modules[i].code);
        }
    json += "]}";
    Datum out = 0;
    pg::call([&] { out = DirectFunctionCall1(jsonb_in, CStringGetDatum(json.c_str())); });
    return out;
}

std::string_view module_arg(FunctionCallInfo fcinfo, int i)
{
    if (PG_ARGISNULL(i))
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "module code must not be null");
    return pg::text_arg(fcinfo, i);
}

Claims token_arg(FunctionCallInfo fcinfo, int i)
{
    if (PG_ARGISNULL(i))
        throw pg::Error::denial("session", "token", "invalid session token", "No token was given.",
                                "Log in again with clinres.login to get a new token.",
                                ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION);
    return verify(pg::text_arg(fcinfo, i));
}

// set_context(user_id, tenant_id, is_local DEFAULT true) -> the user id set
Datum set_context(FunctionCallInfo fcinfo)
{
    bool is_local = PG_ARGISNULL(2) || PG_GETARG_BOOL(2);
    modaccess::check_may_set_context(is_local);
    modaccess::Uuid user{}, tenant{};
    if (!PG_ARGISNULL(0))
        user = pg::uuid_arg(fcinfo, 0);
    if (!PG_ARGISNULL(1))
        tenant = pg::uuid_arg(fcinfo, 1);
    modaccess::set_context(PG_ARGISNULL(0) ? nullptr : &user, PG_ARGISNULL(1) ? nullptr : &tenant, is_local,
                           false);
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    return pg::uuid_datum(user);
}

// set_session(token) -> the user id: verifies the token, sets the transaction's context.
Datum set_session(FunctionCallInfo fcinfo)
{
    modaccess::begin_call(); // takes the doorbells: an ended session is refused from the next statement
    Claims c = token_arg(fcinfo, 0);
    modaccess::set_context(&c.user, &c.tenant, true, true);
    return pg::uuid_datum(c.user);
}

// begin_request(user_id, tenant_id, module_code) -> jsonb
Datum begin_request(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    std::string_view code = module_arg(fcinfo, 2);
    modaccess::check_may_set_context(true);
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) {
        modaccess::module_index(*modaccess::globals(), code);
        throw pg::Error::denial("module", std::string(code),
                                "permission denied for module \"" + std::string(code) + "\"",
                                "No user or tenant was given.");
    }
    return request(Key{pg::uuid_arg(fcinfo, 0), pg::uuid_arg(fcinfo, 1)}, code, false);
}

// begin_request(token, module_code) -> jsonb
Datum begin_request_token(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    std::string_view code = module_arg(fcinfo, 1);
    Claims c = token_arg(fcinfo, 0);
    return request(Key{c.user, c.tenant}, code, true);
}

// _sign_session(user_id, tenant_id) -> a token naming no session (0.3.0's login calls it).
Datum sign_session(FunctionCallInfo fcinfo)
{
    int64_t expires = 0;
    return pg::text_datum(sign(pg::uuid_arg(fcinfo, 0), pg::uuid_arg(fcinfo, 1), nullptr, expires));
}

// _sign_session(user_id, tenant_id, session_id) -> a token of the session (only login, as the
// owner, calls it, before the session exists: it is created with the login's record).
Datum sign_session_of(FunctionCallInfo fcinfo)
{
    int64_t expires = 0;
    clinres::Uuid session = pg::uuid_arg(fcinfo, 2);
    return pg::text_datum(sign(pg::uuid_arg(fcinfo, 0), pg::uuid_arg(fcinfo, 1), &session, expires));
}

// _deny(kind, what, message, detail, hint) -> never returns: raises 42501 with the denial marker.
// The SQL function is gone since 0.3.0; the library keeps the entry point because the install
// scripts of 0.1.0 and 0.2.x bind it, and one library serves every version.
Datum deny(FunctionCallInfo fcinfo)
{
    auto arg = [&](int i) { return PG_ARGISNULL(i) ? std::string() : std::string(pg::text_arg(fcinfo, i)); };
    std::string kind = arg(0), what = arg(1), message = arg(2);
    if (kind.empty() || message.empty())
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "a denial needs a kind and a message");
    throw pg::Error::denial(kind, what, message, arg(3), arg(4));
}

} // namespace

} // namespace session

CLINRES_FUNCTION(clinres_set_context, session::set_context)
CLINRES_FUNCTION(clinres_set_session, session::set_session)
CLINRES_FUNCTION(clinres_begin_request, session::begin_request)
CLINRES_FUNCTION(clinres_begin_request_token, session::begin_request_token)
CLINRES_FUNCTION(clinres_sign_session, session::sign_session)
CLINRES_FUNCTION(clinres_sign_session_of, session::sign_session_of)
CLINRES_FUNCTION(clinres_deny, session::deny)
