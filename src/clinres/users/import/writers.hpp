// Writes sheets of text cells as .xlsx (libxlsxwriter) or CSV, and the users import template.
#pragma once

#include <string>
#include <vector>

#include "clinres/users/import/sheet.hpp"

namespace clinres::import {

// A sheet to write: name, header row and data rows; every cell is written as text.
struct SheetData {
    std::string name;
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
};

// A role or module as the template lists it.
struct CodeName {
    std::string code, name;
};

// The .xlsx bytes of a workbook with these sheets (bold, frozen header; text cells, so phones stay digits).
std::string write_xlsx(const std::vector<SheetData> &sheets);

// CSV bytes of one sheet: UTF-8 with BOM (for Excel), CRLF, RFC 4180 quoting, and an apostrophe before
// a cell starting with = + - @ that is not a number, so spreadsheet programs do not run it as a formula.
std::string write_csv(const SheetData &sheet);

// The bilingual headers the import reads and the export writes, in Field order ("email/邮箱", ...).
const std::vector<std::string> &user_headers();

// The import template: the headers and an example row, and for xlsx a second sheet listing roles and modules.
std::string users_template(Format format, const std::vector<CodeName> &roles,
                           const std::vector<CodeName> &modules);

} // namespace clinres::import
