// The shared part of the file exports (see sheet_export.hpp).
#include "clinres/users/sheet_export.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

#include <string>
#include <utility>
#include <vector>

namespace users {

namespace {

int max_bytes = 128 * 1024 * 1024; // clinres.export_max_bytes

} // namespace

void init_export_settings()
{
    DefineCustomIntVariable("clinres.export_max_bytes",
                            "Most bytes one export (export_users, export_access_review, export_admin_logs) "
                            "holds: the text of its cells, and the file it returns.",
                            nullptr, &max_bytes, max_bytes, 1024, int(MaxAllocSize / 2), PGC_SUSET,
                            GUC_UNIT_BYTE, nullptr, nullptr, nullptr);
}

ExportBudget::ExportBudget(const char *function) : function_(function), limit_(std::size_t(max_bytes)) {}

void ExportBudget::add(std::size_t bytes)
{
    used_ += bytes;
    if (used_ > limit_)
        refuse(used_, "its cells held");
}

const std::string &ExportBudget::file(const std::string &bytes) const
{
    if (bytes.size() > limit_)
        refuse(bytes.size(), "its file had");
    return bytes;
}

void ExportBudget::refuse(std::size_t bytes, const char *what) const
{
    throw pg::Error(
        ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        std::string(function_) + " exceeds clinres.export_max_bytes (" + std::to_string(limit_) + " bytes)",
        std::string("The export was stopped when ") + what + " " + std::to_string(bytes) + " bytes.",
        "Export one tenant at a time, or ask a superuser to raise clinres.export_max_bytes.");
}

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
    ExportBudget budget(function);
    pg::OwnerSpi spi(catalog_owner(), false);
    spi.each(stmt, &arg, PG_ARGISNULL(0) ? "n" : " ", false, batch, [&](const pg::Rows &rows) {
        for (std::size_t r = 0; r < rows.size(); ++r) {
            std::vector<std::string> row;
            for (int c = 0; c < rows.ncols; ++c) {
                row.push_back(rows.at(r, c).null ? std::string() : rows.at(r, c).text);
                budget.add(row.back().size() + 1);
            }
            sheet.rows.push_back(std::move(row));
        }
    });
    spi.finish();
    return pg::bytea_datum(budget.file(format == "xlsx" ? im::write_xlsx({sheet}) : im::write_csv(sheet)));
}

} // namespace users
