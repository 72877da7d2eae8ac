#include "clinres/users/import/read_rows.hpp"

#include "clinres/users/import/csv_reader.hpp"
#include "clinres/users/import/xlsx_reader.hpp"

namespace clinres::import {

Format detect_format(std::string_view data)
{
    if (data.substr(0, 2) == "PK")
        return Format::xlsx;
    if (data.substr(0, 8) == std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8))
        throw ImportError("the file is a legacy .xls or a password-protected workbook; save it as .xlsx "
                          "without a password");
    return Format::csv;
}

void read_rows(std::string_view data, std::optional<Format> format, const ReadOptions &options,
               const RowSink &sink)
{
    if (data.size() > options.limits.file_bytes)
        throw LimitExceeded(Limit::file_bytes, options.limits.file_bytes);
    if (data.empty())
        throw ImportError("the file is empty");
    if ((format ? *format : detect_format(data)) == Format::xlsx)
        read_xlsx(data, options, sink);
    else
        read_csv(data, options, sink);
}

std::vector<Row> read_sheet(std::string_view data, std::optional<Format> format, const ReadOptions &options)
{
    std::vector<Row> rows;
    read_rows(data, format, options, [&](const Row &row) { rows.push_back(row); });
    return rows;
}

} // namespace clinres::import
