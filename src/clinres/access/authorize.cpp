// SQL entry points of the authorization decision (decision.hpp): clinres._authorize raises
// the refusal, clinres._denial returns its message, clinres._allowed a boolean. The actor's
// standing comes from the access cache; the target is read afresh from the catalog.
#include "clinres/access/cache.hpp"
#include "clinres/access/decision.hpp"
#include "clinres/pg/datum.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace {

using modaccess::Denial;
using modaccess::Uuid;

// The decision for the arguments (actor uuid, verb text, tenant_id uuid, target uuid, role_code text).
Denial evaluate(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    if (PG_ARGISNULL(0))
        throw pg::Error::denial("session", "user", "permission denied: no context user", {},
                                "Call clinres.set_context(user_id, tenant_id) first.");
    if (PG_ARGISNULL(1))
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "verb must not be null");
    std::string_view verb_text = pg::text_arg(fcinfo, 1);
    std::optional<modaccess::Verb> verb = modaccess::verb_named(verb_text);
    if (!verb)
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown verb \"" + std::string(verb_text) + "\"");
    auto g = modaccess::globals();
    Uuid actor = pg::uuid_arg(fcinfo, 0);
    std::optional<Uuid> tenant;
    if (!PG_ARGISNULL(2))
        tenant = pg::uuid_arg(fcinfo, 2);
    std::optional<modaccess::Target> target;
    if (!PG_ARGISNULL(3)) {
        modaccess::Target &t = target.emplace();
        t.id = pg::uuid_arg(fcinfo, 3);
        modaccess::UserFacts u = modaccess::read_user_now(t.id, *g);
        t.exists = u.exists;
        t.platform_role = u.platform_role;
        t.memberships = std::move(u.memberships);
        if (*verb == modaccess::Verb::Add || *verb == modaccess::Verb::Explain)
            t.former_tenants = modaccess::read_former_tenants_now(t.id);
    }
    modaccess::RoleId role = modaccess::kNoRole;
    if (!PG_ARGISNULL(4)) {
        std::string code(pg::text_arg(fcinfo, 4));
        std::transform(code.begin(), code.end(), code.begin(),
                       [](unsigned char c) { return std::toupper(c); });
        auto it = g->role_index.find(code);
        if (it == g->role_index.end())
            throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown role \"" + code + "\"");
        role = it->second;
    }
    modaccess::Facts facts{*g, actor, [&](const Uuid &t) {
                               modaccess::View v = modaccess::view(modaccess::Key{actor, t});
                               // Role and permission ids index one catalog version: fail closed if it
                               // changed.
                               if (v.globals != g)
                                   throw pg::Error(ERRCODE_T_R_SERIALIZATION_FAILURE,
                                                   "the role catalog changed while a permission was decided",
                                                   {}, "Retry the call.");
                               return v.standing();
                           }};
    return modaccess::decide(facts, *verb, tenant ? &*tenant : nullptr, target ? &*target : nullptr, role);
}

// _authorize(actor, verb, tenant_id, target, role_code) -> void, or the refusal raised:
// 42501 with the denial marker, or P0002 for a target that is not there.
Datum authorize(FunctionCallInfo fcinfo)
{
    Denial d = evaluate(fcinfo);
    if (!d.refused)
        PG_RETURN_VOID();
    if (d.sqlstate == modaccess::kNoDataFound)
        throw pg::Error(ERRCODE_NO_DATA_FOUND, d.message);
    throw pg::Error::denial(d.kind, d.what, d.message, d.detail);
}

// _denial(actor, verb, tenant_id, target, role_code) -> the refusal's message, or NULL when allowed.
Datum denial(FunctionCallInfo fcinfo)
{
    Denial d = evaluate(fcinfo);
    if (!d.refused)
        PG_RETURN_NULL();
    return pg::text_datum(d.message);
}

// _allowed(actor, verb, tenant_id, target, role_code) -> whether the actor may.
Datum allowed(FunctionCallInfo fcinfo)
{
    return BoolGetDatum(!evaluate(fcinfo).refused);
}

} // namespace

CLINRES_FUNCTION(clinres_authorize, authorize)
CLINRES_FUNCTION(clinres_denial, denial)
CLINRES_FUNCTION(clinres_allowed, allowed)
