// clinres.user_id / clinres.tenant_id: the per-request context, kept as GUCs so that
// SET LOCAL (set_context(..., is_local => true)) ends with the transaction and
// works under transaction pooling. The check hook parses the uuid once, so reading
// the context inside a per-row policy costs a pointer load; it also records whether
// the value can be trusted (set by a superuser session, the server's configuration
// or a verified session token), which decides what the context readers return while
// signed sessions are required or session-level contexts are not allowed.
#include "clinres/session/context.hpp"

#include "clinres/access/catalog_hooks.hpp"
#include "clinres/pg/compat.hpp"
#include "clinres/pg/datum.hpp"
#include "clinres/pg/guard.hpp"

extern "C" {
#include "access/parallel.h"
#include "utils/guc_tables.h"
}

namespace modaccess {

namespace {

struct Parsed {
    bool set;
    bool trusted;
    Uuid value;
};

char *user_text = nullptr;
char *tenant_text = nullptr;
Parsed user_value{false, false, {}};
Parsed tenant_value{false, false, {}};
bool require_signed = false;
bool allow_session = false;
bool token_in_progress = false; // set_context(..., signed_by_token) is setting the GUCs
const config_generic *user_guc = nullptr;
const config_generic *tenant_guc = nullptr;

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Whether a value from this source may be believed without a token: the server's own
// configuration, a parallel worker copying its leader, or a superuser session.
bool trusted_source(GucSource source)
{
    if (token_in_progress || source < PGC_S_DATABASE || IsParallelWorker())
        return true;
    return IsUnderPostmaster && IsTransactionState() && session_is_superuser();
}

// GUC check hook: accepts '' (no context) or a uuid, and hands the parsed value on;
// refuses an untrusted value while signed sessions are required.
bool check_context_uuid(char **newval, void **extra, GucSource source)
{
    Parsed parsed{false, false, {}};
    if (*newval != nullptr && **newval != '\0') {
        if (!parse_uuid(*newval, parsed.value)) {
            GUC_check_errcode(ERRCODE_INVALID_TEXT_REPRESENTATION);
            GUC_check_errmsg("invalid uuid \"%s\" for the clinres context", *newval);
            GUC_check_errhint("Use clinres.set_context(user_id uuid, tenant_id uuid).");
            return false;
        }
        parsed.set = true;
        parsed.trusted = trusted_source(source);
        if (!parsed.trusted && require_signed) {
            GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
            GUC_check_errmsg("the clinres context can only be set by clinres.set_session() while "
                             "clinres.require_signed_session is on");
            GUC_check_errhint("Call clinres.set_session(token) with the token clinres.login returned.");
            return false;
        }
    }
    auto *out = static_cast<Parsed *>(pg::guc_extra_alloc(sizeof(Parsed)));
    if (out == nullptr)
        return false;
    *out = parsed;
    *extra = out;
    return true;
}

void assign_user(const char *, void *extra)
{
    user_value = *static_cast<Parsed *>(extra);
}
void assign_tenant(const char *, void *extra)
{
    tenant_value = *static_cast<Parsed *>(extra);
}

// Whether the variable's current value outlives the transaction (SET without LOCAL,
// ALTER ROLE ... SET, connection options), as opposed to SET LOCAL or a function's SET.
bool session_level(const config_generic *g)
{
    if (g == nullptr)
        return false;
    if (g->stack != nullptr)
        return g->stack->state == GUC_SET;
    return g->source >= PGC_S_DATABASE;
}

const Uuid *usable(const Parsed &p, const config_generic *g)
{
    if (!p.set)
        return nullptr;
    if (p.trusted)
        return &p.value;
    if (require_signed || (!allow_session && session_level(g)))
        return nullptr;
    return &p.value;
}

} // namespace

bool parse_uuid(const char *s, Uuid &out)
{
    bool braces = *s == '{';
    if (braces)
        ++s;
    for (int i = 0; i < 16; ++i) {
        int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);
        if (hi < 0 || lo < 0)
            return false;
        out.bytes[i] = static_cast<unsigned char>(hi << 4 | lo);
        s += 2;
        if (*s == '-' && i % 2 == 1 && i > 0 && i < 15)
            ++s;
    }
    if (braces && *s++ != '}')
        return false;
    return *s == '\0';
}

void init_context()
{
    // Defined before the context variables, so that their values (re)applied when the
    // library loads are checked against it.
    DefineCustomBoolVariable(
        "clinres.require_signed_session",
        "Whether non-superuser sessions may set the clinres context only with a signed token.",
        "When on, clinres.set_context, the unsigned clinres.begin_request and SET clinres.* "
        "by non-superusers are refused; clinres.set_session(token) is the way in.",
        &require_signed, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "clinres.allow_session_context", "Whether non-superusers may set a session-level clinres context.",
        "Off: set_context(..., is_local => false) raises 42501 and a session-level SET "
        "clinres.* is ignored, because under transaction pooling it would reach later clients.",
        &allow_session, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "clinres.user_id", "The user on whose behalf the session acts.",
        "Set with clinres.set_context() or clinres.set_session(); read by clinres.current_user_id().",
        &user_text, "", PGC_USERSET, 0, check_context_uuid, assign_user, nullptr);
    DefineCustomStringVariable(
        "clinres.tenant_id", "The tenant in which the session acts.",
        "Set with clinres.set_context() or clinres.set_session(); read by clinres.current_tenant_id().",
        &tenant_text, "", PGC_USERSET, 0, check_context_uuid, assign_tenant, nullptr);
    user_guc = pg::find_guc("clinres.user_id");
    tenant_guc = pg::find_guc("clinres.tenant_id");
}

const Uuid *context_user()
{
    return usable(user_value, user_guc);
}
const Uuid *context_tenant()
{
    return usable(tenant_value, tenant_guc);
}

bool session_is_superuser()
{
    return superuser_arg(GetSessionUserId());
}

void check_may_set_context(bool is_local)
{
    if (session_is_superuser())
        return;
    if (require_signed)
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        "the clinres context can only be set by clinres.set_session() while "
                        "clinres.require_signed_session is on",
                        "", "Call clinres.set_session(token) with the token clinres.login returned.");
    if (!is_local && !allow_session)
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "a session-level clinres context is not allowed",
                        "Under transaction pooling a context that outlives the transaction is seen by later "
                        "clients of the same server connection.",
                        "Use is_local => true (the default), or ask a superuser to turn on "
                        "clinres.allow_session_context.");
}

void set_context(const Uuid *user, const Uuid *tenant, bool is_local, bool signed_by_token)
{
    std::string u = user ? pg::to_string(*user) : std::string();
    std::string t = tenant ? pg::to_string(*tenant) : std::string();
    struct Reset {
        ~Reset() { token_in_progress = false; }
    } reset;
    token_in_progress = signed_by_token;
    GucAction action = is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET;
    pg::call([&] {
        set_config_option("clinres.user_id", u.c_str(), PGC_USERSET, PGC_S_SESSION, action, true, 0, false);
        set_config_option("clinres.tenant_id", t.c_str(), PGC_USERSET, PGC_S_SESSION, action, true, 0, false);
    });
    if (is_local && catalog_hooks().context_set)
        catalog_hooks().context_set(); // e.g. Citus: the same SET LOCALs on the workers (docs/scale-out.md)
}

} // namespace modaccess
