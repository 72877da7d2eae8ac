// The canonical form of an audit row; see canonical.hpp.
#include "clinres/users/canonical.hpp"

#include <cstdio>

namespace users {

namespace {

const char kHex[] = "0123456789abcdef";

// A string as jsonb's text form writes it (PostgreSQL's escape_json).
void append_json_string(std::string &out, std::string_view s)
{
    out += '"';
    for (unsigned char ch : s) {
        switch (ch) {
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        default:
            if (ch < ' ') {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", ch);
                out += buf;
            } else {
                out += static_cast<char>(ch);
            }
        }
    }
    out += '"';
}

// A uuid (16 raw bytes) as a JSON string of its text form, or null.
void append_uuid(std::string &out, const std::optional<std::string_view> &u)
{
    if (!u) {
        out += "null";
        return;
    }
    out += '"';
    for (std::size_t i = 0; i < u->size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        unsigned char b = static_cast<unsigned char>((*u)[i]);
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    out += '"';
}

// A text as a JSON string, or null.
void append_text(std::string &out, const std::optional<std::string_view> &t)
{
    if (t)
        append_json_string(out, *t);
    else
        out += "null";
}

} // namespace

DetailDigest detail_digest_of(int version, bool kept)
{
    if (version == 2)
        return DetailDigest::Digested;
    return kept ? DetailDigest::Kept : DetailDigest::Whole;
}

void append_hex(std::string &out, std::string_view bytes)
{
    for (unsigned char b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
}

void canonical_text(const CanonicalRow &row, std::string &out)
{
    out.clear();
    out += row.version == 2 ? "[2, " : "[";
    out += std::to_string(row.id);
    out += ", ";
    append_json_string(out, row.created_at);
    out += ", ";
    append_uuid(out, row.actor);
    out += ", ";
    append_uuid(out, row.tenant);
    out += ", ";
    append_text(out, row.action);
    out += ", ";
    append_text(out, row.target);
    out += ", ";
    append_json_string(out, row.detail_digest);
    out += ", ";
    append_text(out, row.change_reason);
    out += ", ";
    if (row.prev_hash) {
        out += '"';
        append_hex(out, *row.prev_hash);
        out += '"';
    } else {
        out += "null";
    }
    out += ']';
}

} // namespace users
