#include "clinres/users/import/writers.hpp"

#include <xlsxwriter.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace clinres::import {

namespace {

// A private temporary file (mkstemp, mode 0600), removed when this goes out of scope.
struct TempFile {
    std::string path;
    TempFile()
    {
        const char *dir = std::getenv("TMPDIR");
        path = std::string(dir && *dir ? dir : "/tmp") + "/clinres-xlsx-XXXXXX";
        int fd = mkstemp(path.data());
        if (fd < 0)
            throw std::runtime_error("cannot create a temporary file for the .xlsx writer");
        close(fd);
    }
    ~TempFile() { unlink(path.c_str()); }
    TempFile(const TempFile &) = delete;
    TempFile &operator=(const TempFile &) = delete;
};

// Throws unless a libxlsxwriter call succeeded.
void check(lxw_error error, const char *what)
{
    if (error != LXW_NO_ERROR)
        throw std::runtime_error(std::string("writing .xlsx: ") + what + ": " + lxw_strerror(error));
}

// Writes one sheet: header in bold, frozen below it, columns wide enough for typical values.
void write_sheet(lxw_workbook *book, lxw_format *bold, const SheetData &sheet)
{
    check(workbook_validate_sheet_name(book, sheet.name.c_str()),
          ("sheet name \"" + sheet.name + "\"").c_str());
    lxw_worksheet *ws = workbook_add_worksheet(book, sheet.name.c_str());
    if (!ws)
        throw std::runtime_error("writing .xlsx: cannot add sheet \"" + sheet.name + "\"");
    for (std::size_t c = 0; c < sheet.header.size(); ++c) {
        check(worksheet_write_string(ws, 0, lxw_col_t(c), sheet.header[c].c_str(), bold), "header");
        check(worksheet_set_column(ws, lxw_col_t(c), lxw_col_t(c), 22, nullptr), "column width");
    }
    if (!sheet.header.empty())
        worksheet_freeze_panes(ws, 1, 0);
    for (std::size_t r = 0; r < sheet.rows.size(); ++r)
        for (std::size_t c = 0; c < sheet.rows[r].size(); ++c)
            if (!sheet.rows[r][c].empty())
                check(worksheet_write_string(ws, lxw_row_t(r + 1), lxw_col_t(c), sheet.rows[r][c].c_str(),
                                             nullptr),
                      "cell");
}

} // namespace

std::string write_xlsx(const std::vector<SheetData> &sheets)
{
    TempFile file;
    lxw_workbook *book = workbook_new(file.path.c_str());
    if (!book)
        throw std::runtime_error("writing .xlsx: cannot create the workbook");
    try {
        lxw_format *bold = workbook_add_format(book);
        format_set_bold(bold);
        for (const SheetData &sheet : sheets)
            write_sheet(book, bold, sheet);
    } catch (...) {
        workbook_close(book); // frees it; the file is removed with `file`
        throw;
    }
    check(workbook_close(book), "closing the workbook");
    std::ifstream in(file.path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in)
        throw std::runtime_error("writing .xlsx: cannot read back " + file.path);
    return std::move(bytes).str();
}

} // namespace clinres::import
