// Reads a CSV file as Excel writes it: UTF-8 (BOM or not) or GB18030/GBK, comma or semicolon.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "clinres/users/import/sheet.hpp"

namespace clinres::import {

// The file as UTF-8 without BOM: options.encoding, or GB18030 when detect finds invalid UTF-8;
// passed to chunk in pieces (the file itself when it is UTF-8: no copy).
void csv_to_utf8(std::string_view data, Encoding encoding,
                 const std::function<void(std::string_view)> &chunk);

// Streams the non-empty records of a CSV file to sink; a record's number counts records, as Excel's rows do.
// The delimiter is ';' when the first line has more semicolons than commas, else ','.
void read_csv(std::string_view data, const ReadOptions &options, const RowSink &sink);

} // namespace clinres::import
