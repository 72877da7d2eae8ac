// The parts of an .xlsx package the reader needs besides the sheet: workbook, relationships,
// styles and shared strings. Internal to the xlsx reader.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "clinres/users/import/xml_stream.hpp"
#include "clinres/users/import/zip_archive.hpp"

namespace clinres::import::xlsx {

// Streams the XML part at path through handler.
void parse_part(ZipArchive &zip, const std::string &path, XmlHandler &handler, const Limits &limits);

// One sheet as workbook.xml lists it.
struct SheetEntry {
    std::string name;
    std::string rel_id;
    bool hidden = false;
};

// The workbook: its sheets, date system and the package paths of its parts.
struct Workbook {
    std::vector<SheetEntry> sheets;
    bool date1904 = false;
    std::map<std::string, std::string> targets; // relationship id -> package path
    std::string shared_strings;                 // package path, or empty
    std::string styles;                         // package path, or empty
};

// Reads the workbook part and its relationships.
Workbook read_workbook(ZipArchive &zip, const Limits &limits);

// Shared strings stored back to back in blocks that never move nor grow, so that the table holds
// its text once (a string grown by doubling holds up to three times its text while it copies):
// string i is the bytes [offsets[i], offsets[i+1]) of the blocks' concatenation.
class SharedStrings {
public:
    // Appends one string; LimitExceeded past 4 GiB of text (the offsets are 32 bits).
    void add(std::string_view s);
    // String i (i < size()).
    std::string at(std::size_t i) const;
    std::size_t size() const { return offsets_.size() - 1; } // number of strings

private:
    static constexpr std::size_t kBlock = std::size_t(1) << 20;
    std::vector<std::unique_ptr<char[]>> blocks_;
    std::deque<std::uint32_t> offsets_{0};
};

// Reads the shared string table (rich text runs concatenated, phonetic runs left out); each
// string takes its bytes and 4 more (its offset) from budget, as the table holds them.
SharedStrings read_shared_strings(ZipArchive &zip, const std::string &path, const Limits &limits,
                                  TextBudget &budget);

// For each cell style index, whether its number format shows a date.
std::vector<bool> read_date_styles(ZipArchive &zip, const std::string &path, const Limits &limits);

} // namespace clinres::import::xlsx
