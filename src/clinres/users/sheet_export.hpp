// What every file export of user management shares (export_admin_logs, export_access_review):
// the owner the queries run as, and one query's rows written as .xlsx or CSV.
#pragma once

#include "clinres/pg/datum.hpp"
#include "clinres/pg/spi.hpp"
#include "clinres/users/import/writers.hpp"

namespace users {

// Defines clinres.export_max_bytes; called from _PG_init.
void init_export_settings();

// The bytes one export holds, counted as its cells are read and once more for the file it
// returns: 54000 naming the function and clinres.export_max_bytes once they pass it, so that
// no export makes the server spend more memory than the setting allows.
class ExportBudget {
public:
    explicit ExportBudget(const char *function);
    // Counts bytes more of cell text; raises past the limit.
    void add(std::size_t bytes);
    // The file, checked against the limit on its own (a CSV's quoting can outgrow its cells).
    const std::string &file(const std::string &bytes) const;

private:
    void refuse(std::size_t bytes, const char *what) const;
    const char *function_;
    std::size_t used_ = 0, limit_;
};

// The owner of clinres's catalog (of clinres.users), as whom SECURITY DEFINER exports query.
Oid catalog_owner();

// The bytea of the rows of stmt($1 = argument 0, NULL allowed) in the format of argument 1
// ('csv' or 'xlsx'), under sheet's name and header, read in batches of batch rows as the catalog's
// owner; 0A000 outside a UTF8 database and 22023 for another format, both naming function, and
// 54000 past clinres.export_max_bytes (ExportBudget).
Datum export_sheet(FunctionCallInfo fcinfo, const char *function, pg::Statement &stmt,
                   clinres::import::SheetData sheet, long batch);

} // namespace users
