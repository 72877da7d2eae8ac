// Formatting and parsing of session tokens (see token.hpp). Pure C++.
#include "clinres/session/token.hpp"

namespace session {

namespace {

const char kHex[] = "0123456789abcdef";

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

// The canonical 36-character form of a uuid.
void append_uuid(std::string &out, const Uuid &u)
{
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += kHex[u.bytes[i] >> 4];
        out += kHex[u.bytes[i] & 15];
    }
}

// Parses exactly the canonical lower-case form (what append_uuid writes).
bool parse_canonical_uuid(std::string_view s, Uuid &out)
{
    if (s.size() != 36)
        return false;
    size_t p = 0;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            if (s[p++] != '-')
                return false;
        }
        int hi = hex_value(s[p]), lo = hex_value(s[p + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out.bytes[i] = static_cast<unsigned char>(hi << 4 | lo);
        p += 2;
    }
    return true;
}

// A decimal number without sign or leading zeros, at most max.
bool parse_decimal(std::string_view s, int64_t max, int64_t &out)
{
    if (s.empty() || s.size() > 18 || (s.size() > 1 && s[0] == '0'))
        return false;
    int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    if (v > max)
        return false;
    out = v;
    return true;
}

} // namespace

std::string claims_text(const Claims &c)
{
    std::string out = std::to_string(c.key_id);
    out += '.';
    append_uuid(out, c.user);
    out += '.';
    append_uuid(out, c.tenant);
    out += '.';
    out += std::to_string(c.expires);
    if (c.has_session) {
        out += '.';
        append_uuid(out, c.session);
    }
    return out;
}

std::string_view signed_prefix(const Claims &c)
{
    return c.has_session ? kSignedPrefix : kSessionlessPrefix;
}

std::string token_text(const Claims &c, const unsigned char *mac, size_t mac_len)
{
    std::string out = claims_text(c);
    out += '.';
    for (size_t i = 0; i < mac_len; ++i) {
        out += kHex[mac[i] >> 4];
        out += kHex[mac[i] & 15];
    }
    return out;
}

bool parse_token(std::string_view token, Claims &out, std::string_view &signed_part, unsigned char mac[32])
{
    // Five parts (0.3.0) or six (with the session); the last is the MAC.
    std::string_view parts[6];
    size_t start = 0, n = 0;
    while (n < 6) {
        size_t dot = token.find('.', start);
        parts[n++] =
            token.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
        if (n == 6)
            return false; // a seventh part
    }
    if (n < 5)
        return false;
    std::string_view mac_hex = parts[n - 1];
    if (mac_hex.size() != 64)
        return false;
    int64_t key_id = 0, expires = 0;
    if (!parse_decimal(parts[0], INT32_MAX, key_id) || !parse_canonical_uuid(parts[1], out.user) ||
        !parse_canonical_uuid(parts[2], out.tenant) || !parse_decimal(parts[3], INT64_MAX / 10, expires))
        return false;
    out.has_session = n == 6;
    if (out.has_session && !parse_canonical_uuid(parts[4], out.session))
        return false;
    for (int i = 0; i < 32; ++i) {
        int hi = hex_value(mac_hex[2 * i]), lo = hex_value(mac_hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        mac[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    out.key_id = static_cast<int32_t>(key_id);
    out.expires = expires;
    signed_part = token.substr(0, token.size() - 65);
    return true;
}

bool equal_in_constant_time(const unsigned char *a, const unsigned char *b, size_t n)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < n; ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

} // namespace session
