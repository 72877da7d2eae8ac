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
};

// Which of the Limits a file exceeded.
enum class Limit { file_bytes, uncompressed_bytes, rows, columns, cell_bytes, xml_depth };

// Name of a limit as the SQL layer names its setting ("rows", "cell_bytes", ...).
const char *limit_name(Limit limit);

// Text taken from a file, cut to at most 40 bytes (on a UTF-8 boundary, "..." added) for messages.
std::string excerpt(std::string_view text);

// A malformed, corrupt or unsupported file; what() is a message for the person who sent it.
class ImportError : public std::runtime_error {
public:
    explicit ImportError(const std::string &message) : std::runtime_error(message) {}
};

// A file over one of the Limits; what() names the limit and its value.
class LimitExceeded : public ImportError {
public:
    LimitExceeded(Limit limit, std::size_t value);
    Limit limit() const { return limit_; } // the limit exceeded
private:
    Limit limit_;
};

} // namespace clinres::import
