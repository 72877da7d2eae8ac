// How numeric and date cells of an .xlsx become text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace clinres::import {

// A stored number as Excel's General format shows it, but never with an exponent
// (15 significant digits, no trailing ".0"): "1.3800000001E10" -> "13800000001". Empty if not a number.
std::string render_number(std::string_view stored);

// An Excel serial date (1900 or 1904 system) as ISO text: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS or HH:MM:SS;
// empty if out of range.
std::string render_date(double serial, bool date1904);

// True if a number format (built-in id, or custom format code when id >= 164) displays a date or time.
bool is_date_format(unsigned id, std::string_view code);

// Decodes Excel's _xHHHH_ escapes of characters XML cannot carry ("_x000D_" -> "\r").
std::string decode_xstring(std::string_view text);

} // namespace clinres::import
