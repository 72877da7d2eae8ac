#include "clinres/users/import/xlsx_reader.hpp"

#include <charconv>
#include <cstdlib>
#include <strings.h>

#include "clinres/users/import/cell_text.hpp"
#include "clinres/users/import/xlsx_parts.hpp"

namespace clinres::import {

namespace {

// Turns the <row>/<c> events of a worksheet part into Rows, one at a time.
struct SheetHandler : XmlHandler {
    const ReadOptions &options;
    const RowSink &sink;
    const xlsx::SharedStrings &strings;
    const std::vector<bool> &date_styles;
    bool date1904;
    TextBudget &budget;

    Row row;
    std::size_t rows_seen = 0;
    bool in_row = false, in_cell = false, capture = false;
    int in_rph = 0;
    std::uint32_t next_row = 1, next_col = 0;
    std::uint32_t col = 0;
    std::string type, style, value;

    SheetHandler(const ReadOptions &o, const RowSink &s, const xlsx::SharedStrings &ss,
                 const std::vector<bool> &ds, bool d1904, TextBudget &b)
        : options(o), sink(s), strings(ss), date_styles(ds), date1904(d1904), budget(b)
    {
    }

    // The reference of the current cell, for messages.
    std::string where() const { return "cell " + column_name(col) + std::to_string(row.number); }

    void start(std::string_view name, const char **attrs) override
    {
        if (name == "row") {
            const char *r = xml_attr(attrs, "r");
            std::uint32_t number = next_row;
            if (r) {
                char *end;
                unsigned long n = std::strtoul(r, &end, 10);
                if (*end || n == 0 || n > 1048576)
                    throw ImportError(std::string("the .xlsx file is corrupt: bad row number \"") +
                                      excerpt(r) + "\"");
                number = std::uint32_t(n);
            }
            if (number < next_row)
                throw ImportError("the .xlsx file is corrupt: row " + std::to_string(number) +
                                  " is out of order");
            row.number = number;
            row.cells.clear();
            next_row = number + 1;
            next_col = 0;
            in_row = true;
        } else if (name == "c" && in_row) {
            const char *r = xml_attr(attrs, "r");
            col = next_col;
            if (r) {
                std::uint32_t ref_row;
                if (!parse_cell_ref(r, col, ref_row) || ref_row != row.number)
                    throw ImportError(std::string("the .xlsx file is corrupt: bad cell reference \"") +
                                      excerpt(r) + "\" in row " + std::to_string(row.number));
            }
            if (col < next_col)
                throw ImportError("the .xlsx file is corrupt: " + where() + " is out of order");
            next_col = col + 1;
            const char *t = xml_attr(attrs, "t");
            const char *s = xml_attr(attrs, "s");
            type = t ? t : "n";
            style = s ? s : "";
            value.clear();
            in_cell = true;
        } else if (in_cell && name == "rPh") {
            ++in_rph;
        } else if (in_cell && (name == "v" || (name == "t" && type == "inlineStr"))) {
            capture = in_rph == 0;
        }
    }

    void end(std::string_view name) override
    {
        if (name == "v" || name == "t") {
            capture = false;
        } else if (name == "rPh") {
            --in_rph;
        } else if (name == "c" && in_cell) {
            in_cell = false;
            std::string text = cell_text();
            if (text.empty())
                return;
            if (col >= options.limits.columns)
                throw LimitExceeded(Limit::columns, options.limits.columns);
            if (text.size() > options.limits.cell_bytes)
                throw LimitExceeded(Limit::cell_bytes, options.limits.cell_bytes);
            budget.take(text.size());
            row.cells.push_back({col, std::move(text)});
        } else if (name == "row" && in_row) {
            in_row = false;
            if (row.cells.empty())
                return;
            if (++rows_seen > options.limits.rows)
                throw LimitExceeded(Limit::rows, options.limits.rows);
            sink(row);
        }
    }

    void text(std::string_view data) override
    {
        if (!capture)
            return;
        if (value.size() + data.size() > options.limits.cell_bytes)
            throw LimitExceeded(Limit::cell_bytes, options.limits.cell_bytes);
        value.append(data);
    }

    // The text of the cell just closed, from its type, stored value and style.
    std::string cell_text() const
    {
        if (type == "s") {
            char *end;
            unsigned long i = std::strtoul(value.c_str(), &end, 10);
            if (value.empty() || *end || i >= strings.size())
                throw ImportError("the .xlsx file is corrupt: " + where() +
                                  " refers to a missing shared string");
            return strings.at(i);
        }
        if (type == "inlineStr" || type == "str" || type == "e")
            return decode_xstring(value);
        if (type == "b")
            return value == "1" ? "TRUE" : value == "0" ? "FALSE" : value;
        if (type == "d" || value.empty())
            return value;
        if (options.dates_as_iso && !style.empty()) {
            unsigned long s = std::strtoul(style.c_str(), nullptr, 10);
            if (s < date_styles.size() && date_styles[s]) {
                double serial = 0;
                auto parsed = std::from_chars(value.data(), value.data() + value.size(), serial);
                std::string date = parsed.ec == std::errc() ? render_date(serial, date1904) : std::string();
                if (!date.empty())
                    return date;
            }
        }
        std::string number = render_number(value);
        return number.empty() ? value : number;
    }
};

// The worksheet part chosen by name (ASCII case-insensitive, as Excel compares), else the first visible one.
std::string choose_sheet(const xlsx::Workbook &book, const std::string &wanted)
{
    const xlsx::SheetEntry *chosen = nullptr;
    for (const auto &sheet : book.sheets) {
        if (wanted.empty() ? !sheet.hidden : strcasecmp(sheet.name.c_str(), wanted.c_str()) == 0) {
            chosen = &sheet;
            break;
        }
    }
    if (!chosen) {
        std::string names;
        for (std::size_t i = 0; i < book.sheets.size() && i < 10; ++i)
            names += (i ? ", " : "") + excerpt(book.sheets[i].name);
        if (book.sheets.size() > 10)
            names += ", ...";
        if (wanted.empty())
            throw ImportError("the .xlsx file has no visible sheet");
        throw ImportError("the .xlsx file has no sheet named \"" + excerpt(wanted) +
                          "\" (its sheets: " + names + ")");
    }
    auto target = book.targets.find(chosen->rel_id);
    if (target == book.targets.end())
        throw ImportError("the .xlsx file is corrupt: sheet \"" + excerpt(chosen->name) + "\" has no part");
    return target->second;
}

} // namespace

void read_xlsx(std::string_view data, const ReadOptions &options, const RowSink &sink)
{
    ZipArchive zip(data, options.limits);
    xlsx::Workbook book = xlsx::read_workbook(zip, options.limits);
    std::string sheet_path = choose_sheet(book, options.sheet);
    TextBudget budget(options.limits.text_bytes);
    xlsx::SharedStrings strings;
    if (!book.shared_strings.empty() && zip.has(book.shared_strings))
        strings = xlsx::read_shared_strings(zip, book.shared_strings, options.limits, budget);
    std::vector<bool> date_styles;
    if (options.dates_as_iso && !book.styles.empty() && zip.has(book.styles))
        date_styles = xlsx::read_date_styles(zip, book.styles, options.limits);
    SheetHandler handler(options, sink, strings, date_styles, book.date1904, budget);
    xlsx::parse_part(zip, sheet_path, handler, options.limits);
}

} // namespace clinres::import
