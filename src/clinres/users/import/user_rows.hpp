// Maps the rows of an import file to users: the header row found by name (English or Chinese).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clinres/users/import/read_rows.hpp"

namespace clinres::import {

// The template's and the export's columns first, in their order (user_headers), then password_hash.
enum class Field { email, name, phone, role, modules, password, valid_from, valid_until, password_hash };
constexpr std::size_t field_count = 9;

// Name of a field as the SQL API spells it ("email", ...).
const char *field_name(Field field);

// Where each field is in the sheet, and which header cells were not understood.
struct HeaderMap {
    std::uint32_t row_number = 0;                                  // Excel row of the header
    std::array<std::optional<std::uint32_t>, field_count> columns; // indexed by Field
    std::vector<std::string> ignored;                              // e.g. "D (部门)"
};

// One data row: trimmed values, empty when not given (password kept exactly as typed;
// password_hash a bcrypt hash the SQL checks for form; valid_from/valid_until the membership's
// validity as typed, parsed by the SQL as timestamptz).
struct UserRow {
    std::uint32_t row_no = 0;
    std::string email, name, phone, role, password, password_hash, valid_from, valid_until;
    std::vector<std::string> modules; // empty: not given
};

// A whole import file: its header and every non-empty data row below it.
struct UserFile {
    HeaderMap header;
    std::vector<UserRow> rows;
};

// The field a header cell names ("邮箱", "E-mail", "手机号 (phone)*"): every word must name the same one.
std::optional<Field> header_field(std::string_view header);

// The header map of a row naming at least email and name; ImportError if it names a field twice.
std::optional<HeaderMap> match_header(const Row &row);

// The module codes or names in a cell, split on , ， 、 ; ； and line breaks, trimmed; at most
// max_pieces of them (LimitExceeded modules_per_cell beyond, before more are made).
std::vector<std::string> split_modules(std::string_view cell,
                                       std::size_t max_pieces = Limits{}.modules_per_cell);

// The user a data row describes under a header (LimitExceeded naming the row for too many modules).
UserRow map_row(const HeaderMap &header, const Row &row, const Limits &limits = Limits{});

// Streams an import file: the header within its first 10 rows to on_header, then each user to
// on_user as its row is read.
void stream_users(std::string_view data, std::optional<Format> format, const ReadOptions &options,
                  const std::function<void(const HeaderMap &)> &on_header,
                  const std::function<void(UserRow &&)> &on_user);

// Reads a whole import file at once (tests and fuzzing; import_users streams).
UserFile read_users(std::string_view data, std::optional<Format> format, const ReadOptions &options);

} // namespace clinres::import
