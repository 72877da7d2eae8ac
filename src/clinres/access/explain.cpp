// SQL entry point of explain_access (docs/reference.md, "Access governance"): has_module's rule
// (rules.cpp) asked for its reason. The tenant comes from the access cache, as for has_module;
// the user is read afresh, because the cache keeps only what changes answers, not reasons.
#include "clinres/access/cache.hpp"
#include "clinres/pg/datum.hpp"
#include "clinres/pg/srf.hpp"

namespace {

// _explain_access(user_id, tenant_id, module_code) -> (allowed, reason, until): the rule at the
// transaction's now(); until is when the answer changes without a write (an end or a start), or NULL.
Datum explain_access(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    modaccess::Key key{pg::uuid_arg(fcinfo, 0), pg::uuid_arg(fcinfo, 1)};
    modaccess::View v = modaccess::view(key);
    int module = modaccess::module_index(*v.globals, pg::text_arg(fcinfo, 2));
    modaccess::UserFacts user = modaccess::read_user_now(key.user, *v.globals);
    int64_t now = GetCurrentTransactionStartTimestamp();
    modaccess::Ruling r =
        modaccess::rule(*v.globals, modaccess::access_in(user, key.tenant), *v.tenant, module, now);
    bool allowed = r.allowed(now);
    int64_t next = allowed ? r.until : (r.from > now && r.from < r.until ? r.from : modaccess::kForever);
    Datum values[3] = {BoolGetDatum(allowed), pg::text_datum(modaccess::reason_name(r.reason)),
                       TimestampTzGetDatum(next)};
    bool nulls[3] = {false, false, next == modaccess::kForever};
    return pg::composite(fcinfo, values, nulls);
}

} // namespace

CLINRES_FUNCTION(clinres_explain_access, explain_access)
