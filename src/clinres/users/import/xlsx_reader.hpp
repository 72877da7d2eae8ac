// Reads one sheet of an .xlsx file (Office Open XML), streaming its rows.
#pragma once

#include <string_view>

#include "clinres/users/import/sheet.hpp"

namespace clinres::import {

// Streams the non-empty rows of the chosen sheet (options.sheet, else the first visible one) to sink.
// Throws ImportError for a corrupt or unsupported file and LimitExceeded past options.limits.
void read_xlsx(std::string_view data, const ReadOptions &options, const RowSink &sink);

} // namespace clinres::import
