// The audit trail's C++ (docs/users.md, "The audit trail"): the change-reason settings, the reason
// each admin_logs row records, and export_admin_logs through the users export's writers.
#include "clinres/users/trail.hpp"

#include "clinres/users/chain_head.hpp"

#include "clinres/pg/datum.hpp"
#include "clinres/users/sheet_export.hpp"
#include "clinres/users/visible_text.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "postmaster/bgworker.h"
}

#include <string>

namespace users {

namespace {

char *change_reason = nullptr;
bool require_change_reason = false;

// The reason as set, trimmed of spaces; empty when unset or blank.
std::string current_reason()
{
    std::string r = change_reason ? change_reason : "";
    std::size_t b = r.find_first_not_of(" \t\r\n"), e = r.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : r.substr(b, e - b + 1);
}

// Why a reason cannot be recorded, or empty: more than 1000 characters, or a character a name may
// not have either (visible_text.hpp: a line break would forge a second line of the trail, an
// invisible one could hide or reorder what a reader sees).
std::string reason_problem(const std::string &r)
{
    bool utf8 = GetDatabaseEncoding() == PG_UTF8;
    if (std::optional<Invisible> bad = first_invisible(r, utf8)) {
        char hex[16];
        snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(bad->code_point));
        return std::string("clinres.change_reason must not contain control or invisible characters (") + hex +
               " at character " + std::to_string(bad->position) + ")";
    }
    if (std::size_t chars = character_count(r, utf8); chars > 1000)
        return "clinres.change_reason is " + std::to_string(chars) +
               " characters long; at most 1000 are allowed";
    return {};
}

// Whether this process is clinres's autonomous worker (pg/autonomous.cpp), which records what
// must survive the caller's rollback (login outcomes, logouts, revocations): no change of the
// caller's to justify, so clinres.require_change_reason does not apply to its rows.
bool in_autonomous_worker()
{
    return MyBgworkerEntry != nullptr &&
           strcmp(MyBgworkerEntry->bgw_function_name, "clinres_autonomous_main") == 0;
}

// clinres._change_reason() -> text: the reason the current change records (NULL when none is set).
Datum reason(FunctionCallInfo fcinfo)
{
    std::optional<std::string> r = change_reason_for_row();
    if (r)
        return pg::text_datum(*r);
    fcinfo->isnull = true;
    return Datum(0);
}

pg::Statement export_sql = {
    "SELECT id, created_at, actor_id, actor_email, tenant_id, tenant_code, action, target, detail,"
    " change_reason, prev_hash, row_hash, hash_version, canonical FROM clinres._export_admin_logs($1)",
    1,
    {UUIDOID}};

// export_admin_logs(tenant_id, format) -> bytea: the trail of the chains the caller may audit, with hashes.
Datum export_logs(FunctionCallInfo fcinfo)
{
    return export_sheet(
        fcinfo, "export_admin_logs", export_sql,
        {"admin_logs",
         {"id", "created_at (UTC)", "actor_id", "actor_email", "tenant_id", "tenant_code", "action", "target",
          "detail", "change_reason", "prev_hash", "row_hash", "hash_version", "canonical"},
         {}},
        1000);
}

} // namespace

std::optional<std::string> change_reason_for_row()
{
    std::string r = current_reason();
    if (!r.empty()) {
        std::string problem = reason_problem(r);
        if (!problem.empty())
            throw pg::Error(
                ERRCODE_INVALID_PARAMETER_VALUE, problem, "Nothing was written.",
                "A reason is one line of visible text, recorded in every audit row of the change.");
        return r;
    }
    if (require_change_reason && !in_autonomous_worker())
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "a change needs a reason: clinres.change_reason is not set",
                        "clinres.require_change_reason is on, so nothing was written.",
                        "Run SET LOCAL clinres.change_reason = '...' in the transaction of the change.");
    return std::nullopt;
}

void init_trail()
{
    init_chain_heads();
    DefineCustomStringVariable(
        "clinres.change_reason",
        "Why the changes of this transaction are made; recorded in their admin_logs rows.",
        "Set it with SET LOCAL, so that it ends with the transaction.", &change_reason, "", PGC_USERSET, 0,
        nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("clinres.require_change_reason",
                             "Refuses a change (22023) whose transaction has not set clinres.change_reason.",
                             nullptr, &require_change_reason, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

} // namespace users

CLINRES_FUNCTION(clinres_change_reason, users::reason)
CLINRES_FUNCTION(clinres_export_admin_logs, users::export_logs)
