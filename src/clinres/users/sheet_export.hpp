// What every file export of user management shares (export_admin_logs, export_access_review):
// the owner the queries run as, and one query's rows written as .xlsx or CSV.
#pragma once

#include "clinres/pg/datum.hpp"
#include "clinres/pg/spi.hpp"
#include "clinres/users/import/writers.hpp"

namespace users {

// The owner of clinres's catalog (of clinres.users), as whom SECURITY DEFINER exports query.
Oid catalog_owner();

// The bytea of the rows of stmt($1 = argument 0, NULL allowed) in the format of argument 1
// ('csv' or 'xlsx'), under sheet's name and header, read in batches of batch rows as the catalog's
// owner; 0A000 outside a UTF8 database and 22023 for another format, both naming function.
Datum export_sheet(FunctionCallInfo fcinfo, const char *function, pg::Statement &stmt,
                   clinres::import::SheetData sheet, long batch);

} // namespace users
