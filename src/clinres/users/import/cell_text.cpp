#include "clinres/users/import/cell_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <system_error>

namespace clinres::import {

std::string render_number(std::string_view stored)
{
    double value = 0;
    auto [end, ec] = std::from_chars(stored.data(), stored.data() + stored.size(), value);
    if (ec != std::errc() || end != stored.data() + stored.size() || !std::isfinite(value))
        return {};
    if (value == 0)
        return "0";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific, 14);
    std::string_view sci(buf, std::size_t(res.ptr - buf)); // [-]d.dddddddddddddde[+-]xx
    bool negative = sci[0] == '-';
    if (negative)
        sci.remove_prefix(1);
    std::size_t e = sci.find('e');
    std::string digits = std::string(sci.substr(0, 1)) + std::string(sci.substr(2, e - 2));
    int exponent = std::stoi(std::string(sci.substr(e + 1)));
    while (digits.size() > 1 && digits.back() == '0')
        digits.pop_back();
    std::string out = negative ? "-" : "";
    int point = exponent + 1; // digits before the decimal point
    if (point <= 0) {
        out += "0." + std::string(std::size_t(-point), '0') + digits;
    } else if (std::size_t(point) >= digits.size()) {
        out += digits + std::string(std::size_t(point) - digits.size(), '0');
    } else {
        out += digits.substr(0, std::size_t(point)) + "." + digits.substr(std::size_t(point));
    }
    return out;
}

namespace {

// Year, month, day of a count of days since 1970-01-01 (proleptic Gregorian).
void civil_from_days(long z, int &y, unsigned &m, unsigned &d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = unsigned(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long yy = long(yoe) + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = int(yy + (m <= 2));
}

} // namespace

std::string render_date(double serial, bool date1904)
{
    if (!(serial >= 0 && serial < 2958466))
        return {};
    long seconds = std::lround(serial * 86400.0);
    long days = seconds / 86400, secs = seconds % 86400;
    char buf[32];
    if (days == 0 && !date1904) {
        std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", secs / 3600, secs / 60 % 60, secs % 60);
        return buf;
    }
    int y;
    unsigned m, d;
    if (date1904) {
        civil_from_days(days - 24107, y, m, d); // 1904-01-01 is day -24107 from 1970
    } else if (days == 60) {
        y = 1900, m = 2, d = 29; // the day Lotus (and so Excel) believes in
    } else {
        civil_from_days(days - (days < 60 ? 25568 : 25569), y, m, d); // 1899-12-31 / 1899-12-30
    }
    int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
    if (secs != 0)
        std::snprintf(buf + n, sizeof buf - std::size_t(n), "T%02ld:%02ld:%02ld", secs / 3600, secs / 60 % 60,
                      secs % 60);
    return buf;
}

bool is_date_format(unsigned id, std::string_view code)
{
    if ((id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) || (id >= 50 && id <= 58))
        return true;
    if (id < 164)
        return false;
    bool in_quote = false;
    for (std::size_t i = 0; i < code.size(); ++i) {
        char c = code[i];
        if (in_quote) {
            in_quote = c != '"';
        } else if (c == '"') {
            in_quote = true;
        } else if (c == '\\' || c == '_' || c == '*') {
            ++i; // the next character is literal or padding
        } else if (c == '[') {
            std::size_t close = code.find(']', i);
            if (close == std::string_view::npos)
                return false;
            i = close;
        } else if (c == ';') {
            return false; // only the first section decides
        } else {
            switch (c | 0x20) {
            case 'y':
            case 'm':
            case 'd':
            case 'h':
            case 's':
                return true;
            default:
                break;
            }
        }
    }
    return false;
}

std::string decode_xstring(std::string_view text)
{
    if (text.find("_x") == std::string_view::npos)
        return std::string(text);
    std::string out;
    out.reserve(text.size());
    auto hex = [](char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); };
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '_' && i + 6 < text.size() && text[i + 1] == 'x' && hex(text[i + 2]) &&
            hex(text[i + 3]) && hex(text[i + 4]) && hex(text[i + 5]) && text[i + 6] == '_') {
            unsigned cp = unsigned(std::stoul(std::string(text.substr(i + 2, 4)), nullptr, 16));
            if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
                cp = 0xFFFD; // no NUL or lone surrogate in text
            if (cp < 0x80) {
                out += char(cp);
            } else if (cp < 0x800) {
                out += char(0xC0 | (cp >> 6));
                out += char(0x80 | (cp & 0x3F));
            } else {
                out += char(0xE0 | (cp >> 12));
                out += char(0x80 | ((cp >> 6) & 0x3F));
                out += char(0x80 | (cp & 0x3F));
            }
            i += 6;
        } else {
            out += text[i];
        }
    }
    return out;
}

} // namespace clinres::import
