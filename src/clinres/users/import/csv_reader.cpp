#include "clinres/users/import/csv_reader.hpp"

#include <cerrno>
#include <functional>
#include <iconv.h>

namespace clinres::import {

namespace {

// True if data is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view data)
{
    const auto *s = reinterpret_cast<const unsigned char *>(data.data());
    std::size_t n = data.size(), i = 0;
    while (i < n) {
        unsigned char c = s[i];
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80)
            len = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return false;
        if (i + len > n)
            return false;
        for (std::size_t k = 1; k < len; ++k) {
            unsigned char b = s[i + k];
            if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
                return false;
        }
        i += len;
    }
    return true;
}

// Converts GB18030 (a superset of GBK and GB2312) to UTF-8 with iconv, passing the text on in
// chunks of at most 64 kB so that a large file is never held twice.
void gb18030_to_utf8(std::string_view data, const std::function<void(std::string_view)> &chunk)
{
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == iconv_t(-1))
        throw ImportError("GB18030 conversion is not available on this server");
    struct Closer {
        iconv_t cd;
        ~Closer() { iconv_close(cd); }
    } closer{cd};
    char out[64 * 1024];
    char *in = const_cast<char *>(data.data());
    std::size_t in_left = data.size();
    while (in_left > 0) {
        char *dst = out;
        std::size_t out_left = sizeof out;
        std::size_t rc = iconv(cd, &in, &in_left, &dst, &out_left);
        int err = errno;
        if (dst > out)
            chunk(std::string_view(out, std::size_t(dst - out)));
        if (rc != std::size_t(-1) || err == E2BIG)
            continue;
        throw ImportError("the CSV file is neither UTF-8 nor GB18030 (bad byte at offset " +
                          std::to_string(data.size() - in_left) + ")");
    }
}

// ';' if the first line (outside quotes) has more semicolons than commas, else ','.
char detect_delimiter(std::string_view text)
{
    std::size_t commas = 0, semicolons = 0;
    bool quoted = false;
    for (char c : text) {
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && (c == '\n' || c == '\r'))
            break;
        else if (!quoted && c == ',')
            ++commas;
        else if (!quoted && c == ';')
            ++semicolons;
    }
    return semicolons > commas ? ';' : ',';
}

} // namespace

void csv_to_utf8(std::string_view data, Encoding encoding, const std::function<void(std::string_view)> &chunk)
{
    if (data.size() >= 2 &&
        ((data[0] == '\xFF' && data[1] == '\xFE') || (data[0] == '\xFE' && data[1] == '\xFF')))
        throw ImportError("the CSV file is UTF-16; save it as CSV UTF-8");
    if (data.substr(0, 3) == "\xEF\xBB\xBF") {
        data.remove_prefix(3);
        if (encoding == Encoding::detect)
            encoding = Encoding::utf8;
    }
    if (encoding == Encoding::detect)
        encoding = valid_utf8(data) ? Encoding::utf8 : Encoding::gb18030;
    if (encoding == Encoding::gb18030)
        return gb18030_to_utf8(data, chunk);
    if (!valid_utf8(data))
        throw ImportError("the CSV file is not valid UTF-8");
    chunk(data);
}

namespace {

// The records of CSV text fed character by character (the text may come in chunks).
struct CsvParser {
    const Limits &limits;
    const RowSink &sink;
    TextBudget budget;
    char delimiter;
    Row row{1, {}};
    std::string field;
    std::uint32_t column = 0;
    std::size_t rows_seen = 0;
    bool quoted = false;        // inside a quoted field
    bool was_quoted = false;    // the current field had quotes
    bool quote_pending = false; // a quote inside a quoted field: closing, or the first of ""
    bool after_cr = false;      // a record just ended with CR: a LF right after it belongs to it
    std::uint32_t quote_started = 0;

    CsvParser(const Limits &l, const RowSink &s, char d)
        : limits(l), sink(s), budget(l.text_bytes), delimiter(d)
    {
    }

    void end_field()
    {
        if (!field.empty()) {
            if (column >= limits.columns)
                throw LimitExceeded(Limit::columns, limits.columns);
            budget.take(field.size());
            row.cells.push_back({column, std::move(field)});
        }
        field.clear();
        was_quoted = false;
        ++column;
    }

    void end_record()
    {
        end_field();
        if (!row.cells.empty()) {
            if (++rows_seen > limits.rows)
                throw LimitExceeded(Limit::rows, limits.rows);
            sink(row);
        }
        ++row.number;
        row.cells.clear();
        column = 0;
    }

    void put(char c)
    {
        if (quote_pending) {
            quote_pending = false;
            if (c == '"') {
                field += '"';
                return;
            }
            quoted = false;
        }
        if (after_cr) {
            after_cr = false;
            if (c == '\n')
                return;
        }
        if (quoted) {
            if (c == '"')
                quote_pending = true;
            else
                field += c;
        } else if (c == '"' && field.empty() && !was_quoted) {
            quoted = was_quoted = true;
            quote_started = row.number;
        } else if (c == delimiter) {
            end_field();
        } else if (c == '\n' || c == '\r') {
            after_cr = c == '\r';
            end_record();
        } else {
            field += c; // a stray quote inside an unquoted field is kept, as Excel does
        }
        if (field.size() > limits.cell_bytes)
            throw LimitExceeded(Limit::cell_bytes, limits.cell_bytes);
    }

    void finish()
    {
        if (quote_pending)
            quoted = quote_pending = false;
        if (quoted)
            throw ImportError("the CSV file is malformed: the quoted field starting in row " +
                              std::to_string(quote_started) + " is never closed");
        if (!field.empty() || was_quoted || column > 0)
            end_record();
    }
};

} // namespace

void read_csv(std::string_view data, const ReadOptions &options, const RowSink &sink)
{
    if (data.size() > options.limits.file_bytes)
        throw LimitExceeded(Limit::file_bytes, options.limits.file_bytes);
    // No encoding read here puts a NUL byte in its text that was not in the file, nor hides one.
    if (data.find('\0') != std::string_view::npos)
        throw ImportError("the file is neither .xlsx nor CSV text (it contains NUL bytes)");
    // Neither encoding has " , ; CR or LF inside a multi-byte character: the first line's bytes tell.
    CsvParser parser(options.limits, sink, detect_delimiter(data));
    csv_to_utf8(data, options.encoding, [&](std::string_view chunk) {
        for (char c : chunk)
            parser.put(c);
    });
    parser.finish();
}

} // namespace clinres::import
