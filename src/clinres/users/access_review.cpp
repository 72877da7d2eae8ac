// export_access_review (docs/reference.md, "Access governance"): access_review's rows as an .xlsx
// or CSV file, through the users export's writers.
#include "clinres/pg/datum.hpp"
#include "clinres/pg/spi.hpp"
#include "clinres/users/import/writers.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

#include <string>

namespace {

namespace im = clinres::import;

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

// The owner of clinres's catalog, as whom the query runs (the function is SECURITY DEFINER).
Oid catalog_owner()
{
    Oid rel = InvalidOid;
    pg::call([&] { rel = get_relname_relid("user_tenants", get_namespace_oid("clinres", false)); });
    if (!OidIsValid(rel))
        throw pg::Error(ERRCODE_UNDEFINED_TABLE, "clinres.user_tenants does not exist");
    return pg::relation_owner(rel);
}

// export_access_review(tenant_id, format) -> bytea: who has which module in the tenant, and why.
Datum export_access_review(FunctionCallInfo fcinfo)
{
    if (GetDatabaseEncoding() != PG_UTF8)
        throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED, "export_access_review needs a UTF8 database",
                        "The database encoding is " + std::string(GetDatabaseEncodingName()) + ".");
    std::string format = PG_ARGISNULL(1) ? "NULL" : std::string(pg::text_arg(fcinfo, 1));
    if (format != "csv" && format != "xlsx")
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "invalid format \"" + format.substr(0, 40) + "\"",
                        {}, "format is csv or xlsx.");
    Datum tenant = PG_ARGISNULL(0) ? Datum(0) : PG_GETARG_DATUM(0);
    pg::OwnerSpi spi(catalog_owner(), false);
    im::SheetData sheet{"access_review",
                        {"user_id", "email", "name", "role_code", "membership_status", "module_code",
                         "source", "valid_from (UTC)", "valid_until (UTC)", "granted_by", "granted_by_email",
                         "granted_at (UTC)"},
                        {}};
    spi.each(review_sql, &tenant, PG_ARGISNULL(0) ? "n" : " ", false, 5000, [&](const pg::Rows &rows) {
        for (std::size_t r = 0; r < rows.size(); ++r) {
            std::vector<std::string> row;
            for (int c = 0; c < rows.ncols; ++c)
                row.push_back(rows.at(r, c).null ? std::string() : rows.at(r, c).text);
            sheet.rows.push_back(std::move(row));
        }
    });
    spi.finish();
    return pg::bytea_datum(format == "xlsx" ? im::write_xlsx({sheet}) : im::write_csv(sheet));
}

} // namespace

CLINRES_FUNCTION(clinres_export_access_review, export_access_review)
