// The entry points of the readers: format detection and reading a whole file.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "clinres/users/import/sheet.hpp"

namespace clinres::import {

// xlsx for a zip archive (PK magic), else csv; ImportError for a legacy .xls or encrypted workbook (OLE).
Format detect_format(std::string_view data);

// Streams the rows of the file in the given format (detected when none) to sink.
void read_rows(std::string_view data, std::optional<Format> format, const ReadOptions &options,
               const RowSink &sink);

// All the rows of the file at once (tests and small files; prefer read_rows for large ones).
std::vector<Row> read_sheet(std::string_view data, std::optional<Format> format, const ReadOptions &options);

} // namespace clinres::import
