// Helpers of the import unit tests: fixture files and hand-made .xlsx packages.
#pragma once

#include <minizip/zip.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "clinres/users/import/read_rows.hpp"

namespace test {

// The bytes of a file.
inline std::string slurp(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("missing fixture " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A generated fixture (openpyxl, libxlsxwriter) by file name.
inline std::string generated(const std::string &name)
{
    return slurp(std::string(GENERATED_FIXTURES) + "/" + name);
}

// A committed fixture (LibreOffice) by file name.
inline std::string committed(const std::string &name)
{
    return slurp(std::string(COMMITTED_FIXTURES) + "/" + name);
}

// A zip archive of the given entries (name -> content), deflated with minizip.
inline std::string make_zip(const std::map<std::string, std::string> &entries)
{
    char path[] = "/tmp/clinres-unit-zip-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    zipFile zf = zipOpen64(path, APPEND_STATUS_CREATE);
    for (const auto &[name, content] : entries) {
        zip_fileinfo info{};
        zipOpenNewFileInZip64(zf, name.c_str(), &info, nullptr, 0, nullptr, 0, nullptr, Z_DEFLATED, 9, 1);
        zipWriteInFileInZip(zf, content.data(), unsigned(content.size()));
        zipCloseFileInZip(zf);
    }
    zipClose(zf, nullptr);
    std::string bytes = slurp(path);
    unlink(path);
    return bytes;
}

constexpr const char *main_ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
constexpr const char *rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

// A minimal .xlsx: one sheet "Sheet1" with the given sheetData XML, shared strings and styles if given.
inline std::string make_xlsx(const std::string &sheet_data, const std::string &shared_strings = "",
                             const std::string &sheet_prefix = "")
{
    std::string rels =
        std::string("<?xml version=\"1.0\"?><Relationships "
                    "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">") +
        "<Relationship Id=\"rId1\" Type=\"" + rel_ns + "/worksheet\" Target=\"worksheets/sheet1.xml\"/>" +
        "<Relationship Id=\"rId2\" Type=\"" + rel_ns + "/sharedStrings\" Target=\"/xl/sharedStrings.xml\"/>" +
        "</Relationships>";
    std::map<std::string, std::string> parts{
        {"xl/workbook.xml",
         std::string("<?xml version=\"1.0\"?><workbook xmlns=\"") + main_ns + "\" xmlns:r=\"" + rel_ns +
             "\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels", rels},
        {"xl/worksheets/sheet1.xml", sheet_prefix + "<worksheet xmlns=\"" + main_ns + "\"><sheetData>" +
                                         sheet_data + "</sheetData></worksheet>"},
    };
    if (!shared_strings.empty())
        parts["xl/sharedStrings.xml"] =
            std::string("<sst xmlns=\"") + main_ns + "\">" + shared_strings + "</sst>";
    return make_zip(parts);
}

// The value of the cell at ref ("C7") among rows, or "<none>".
inline std::string cell(const std::vector<clinres::import::Row> &rows, const std::string &ref)
{
    std::uint32_t col, row;
    if (!clinres::import::parse_cell_ref(ref, col, row))
        throw std::runtime_error("bad ref " + ref);
    for (const auto &r : rows)
        if (r.number == row)
            if (const std::string *v = r.find(col))
                return *v;
    return "<none>";
}

} // namespace test
