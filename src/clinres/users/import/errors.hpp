// Errors and limits of the import readers (pure C++, no PostgreSQL header).
// The SQL layer maps every ImportError, LimitExceeded included, to SQLSTATE 22023.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace clinres::import {

// The bounds a hostile or careless file must stay within.
struct Limits {
    std::size_t file_bytes = 20u << 20;          // bytes of the file as given
    std::size_t uncompressed_bytes = 100u << 20; // bytes inflated from the zip, all entries together
    std::size_t rows = 200000;                   // non-empty rows read from the sheet, header included
    std::size_t columns = 256;                   // highest column used (A = 1)
    std::size_t cell_bytes = 32767;              // UTF-8 bytes of one cell or shared string
    std::size_t xml_depth = 64;                  // element nesting in any XML part
    std::size_t text_bytes = 32u << 20;          // decoded text: every cell read and every shared string
    std::size_t modules_per_cell = 64;           // pieces of one modules cell
};

// Which of the Limits a file exceeded.
enum class Limit {
    file_bytes,
    uncompressed_bytes,
    rows,
    columns,
    cell_bytes,
    xml_depth,
    text_bytes,
    modules_per_cell
};

// Name of a limit as the SQL layer names its setting ("rows", "cell_bytes", ...).
const char *limit_name(Limit limit);

// Text taken from a file, cut to at most 40 bytes (on a UTF-8 boundary, "..." added) for messages.
std::string excerpt(std::string_view text);

// A malformed, corrupt or unsupported file; what() is a message for the person who sent it.
class ImportError : public std::runtime_error {
public:
    explicit ImportError(const std::string &message) : std::runtime_error(message) {}
};

// A file over one of the Limits; what() names the limit and its value (and where, when given: "row 7").
class LimitExceeded : public ImportError {
public:
    LimitExceeded(Limit limit, std::size_t value, const std::string &where = {});
    Limit limit() const { return limit_; }              // the limit exceeded
    const std::string &where() const { return where_; } // the row it was exceeded in, or empty
private:
    Limit limit_;
    std::string where_;
};

// The decoded text one file has produced so far, against Limits::text_bytes: every reader takes
// the bytes of each cell (a shared string each time a cell uses it) and of each stored string as
// it decodes them, so that no file shape makes more text than the limit, however small the file.
class TextBudget {
public:
    explicit TextBudget(std::size_t limit) : limit_(limit) {}
    // Counts bytes more of decoded text; LimitExceeded past the limit.
    void take(std::size_t bytes)
    {
        if (bytes > limit_ - used_)
            throw LimitExceeded(Limit::text_bytes, limit_);
        used_ += bytes;
    }
    std::size_t used() const { return used_; } // bytes taken so far
private:
    std::size_t limit_;
    std::size_t used_ = 0;
};

} // namespace clinres::import
