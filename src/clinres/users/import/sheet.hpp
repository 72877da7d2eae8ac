// The sheet model every reader produces: non-empty rows of non-empty cells, in file order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "clinres/users/import/errors.hpp"

namespace clinres::import {

// One non-empty cell: its column (0 = A) and its value as text, UTF-8.
struct Cell {
    std::uint32_t column = 0;
    std::string value;
};

// One row with at least one non-empty cell; number is the row number Excel shows (1-based).
struct Row {
    std::uint32_t number = 0;
    std::vector<Cell> cells; // ascending column order

    const std::string *find(std::uint32_t column) const; // the cell in column, or nullptr
};

// Called once per row while a reader streams a sheet.
using RowSink = std::function<void(const Row &)>;

enum class Format { xlsx, csv };
enum class Encoding { detect, utf8, gb18030 };

// What to read and how.
struct ReadOptions {
    Limits limits;
    std::string sheet;                    // xlsx: the sheet of this name; empty: the first visible sheet
    bool dates_as_iso = true;             // xlsx: date-formatted numbers as YYYY-MM-DD[THH:MM:SS]
    Encoding encoding = Encoding::detect; // csv: GB18030 when not valid UTF-8
    std::function<void()> every_rows;     // if set, called every rows_per_call rows read; may throw to stop
};

// Rows read between two calls of ReadOptions::every_rows.
constexpr std::uint32_t rows_per_call = 1000;

// Column letters of a 0-based column index ("A", "AB").
std::string column_name(std::uint32_t column);

// Parses a cell reference such as "C7" into a 0-based column and 1-based row; false if malformed.
bool parse_cell_ref(std::string_view ref, std::uint32_t &column, std::uint32_t &row);

} // namespace clinres::import
