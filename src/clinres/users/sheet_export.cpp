// The shared part of the file exports (see sheet_export.hpp).
#include "clinres/users/sheet_export.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

#include <string>
#include <utility>
#include <vector>

namespace users {

Oid catalog_owner()
{
    Oid rel = InvalidOid;
    pg::call([&] {
        rel = get_relname_relid("users", get_namespace_oid("clinres", false));
        if (!OidIsValid(rel))
            elog(ERROR, "clinres.users does not exist");
    });
    return pg::relation_owner(rel);
}

Datum export_sheet(FunctionCallInfo fcinfo, const char *function, pg::Statement &stmt,
                   clinres::import::SheetData sheet, long batch)
{
    namespace im = clinres::import;
    if (GetDatabaseEncoding() != PG_UTF8)
        throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED, std::string(function) + " needs a UTF8 database",
                        "The database encoding is " + std::string(GetDatabaseEncodingName()) + ".");
    std::string format = PG_ARGISNULL(1) ? "NULL" : std::string(pg::text_arg(fcinfo, 1));
    if (format != "csv" && format != "xlsx")
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "invalid format \"" + format.substr(0, 40) + "\"",
                        {}, "format is csv or xlsx.");
    Datum arg = PG_ARGISNULL(0) ? Datum(0) : PG_GETARG_DATUM(0);
    pg::OwnerSpi spi(catalog_owner(), false);
    spi.each(stmt, &arg, PG_ARGISNULL(0) ? "n" : " ", false, batch, [&](const pg::Rows &rows) {
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

} // namespace users
