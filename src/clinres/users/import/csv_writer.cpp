#include "clinres/users/import/writers.hpp"

namespace clinres::import {

namespace {

// True if a cell starting with + or - is a plain number or phone ("+86 138 0000 0001", "-5"), not a formula.
bool number_like(const std::string &cell)
{
    return cell.size() > 1 && cell.find_first_not_of("0123456789 ()-.", 1) == std::string::npos;
}

// Appends one cell, guarded and quoted as needed.
void append_cell(std::string &out, const std::string &cell)
{
    std::string value = cell;
    if (!value.empty() &&
        (value[0] == '=' || value[0] == '@' || ((value[0] == '+' || value[0] == '-') && !number_like(value))))
        value.insert(value.begin(), '\'');
    bool quote = value.find_first_of(",;\"\r\n") != std::string::npos ||
                 (!value.empty() && (value.front() == ' ' || value.back() == ' '));
    if (!quote) {
        out += value;
        return;
    }
    out += '"';
    for (char c : value) {
        if (c == '"')
            out += '"';
        out += c;
    }
    out += '"';
}

// Appends one record and its CRLF.
void append_record(std::string &out, const std::vector<std::string> &cells)
{
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i)
            out += ',';
        append_cell(out, cells[i]);
    }
    out += "\r\n";
}

} // namespace

std::string write_csv(const SheetData &sheet)
{
    std::string out = "\xEF\xBB\xBF";
    append_record(out, sheet.header);
    for (const auto &row : sheet.rows)
        append_record(out, row);
    return out;
}

} // namespace clinres::import
