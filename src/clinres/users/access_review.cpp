// export_access_review (docs/reference.md, "Access governance"): access_review's rows as an .xlsx
// or CSV file, through the users export's writers.
#include "clinres/users/sheet_export.hpp"

#include "clinres/pg/guard.hpp"

namespace {

// The rows, as text (timestamps in UTC); access_review checks who asks.
pg::Statement review_sql = {
    "SELECT r.user_id::pg_catalog.text, r.email, r.name, r.role_code, r.membership_status, r.module_code, "
    "r.source,"
    "       pg_catalog.to_char(pg_catalog.timezone('UTC', r.valid_from), 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"
    "       pg_catalog.to_char(pg_catalog.timezone('UTC', r.valid_until), 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"
    "       r.granted_by::pg_catalog.text, g.email,"
    "       pg_catalog.to_char(pg_catalog.timezone('UTC', r.granted_at), 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    "  FROM clinres.access_review($1) r LEFT JOIN clinres.users g ON g.id OPERATOR(pg_catalog.=) "
    "r.granted_by",
    1,
    {UUIDOID}};

// export_access_review(tenant_id, format) -> bytea: who has which module in the tenant, and why.
Datum export_access_review(FunctionCallInfo fcinfo)
{
    return users::export_sheet(
        fcinfo, "export_access_review", review_sql,
        {"access_review",
         {"user_id", "email", "name", "role_code", "membership_status", "module_code", "source",
          "valid_from (UTC)", "valid_until (UTC)", "granted_by", "granted_by_email", "granted_at (UTC)"},
         {}},
        5000);
}

} // namespace

CLINRES_FUNCTION(clinres_export_access_review, export_access_review)
