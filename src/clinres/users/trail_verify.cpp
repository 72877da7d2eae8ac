// verify_admin_logs' pass over the chains (docs/compliance.md, "What verify_admin_logs checks"):
// one ordered scan of admin_logs, each row's canonical form rebuilt here (an implementation of
// the form apart from the trigger's SQL, as an inspector's would be), hashed with SHA-256 and
// compared with row_hash, and its prev_hash with the row before it in its chain.
#include "clinres/core/sha256.hpp"
#include "clinres/users/canonical.hpp"

#include "clinres/pg/spi.hpp"
#include "clinres/pg/srf.hpp"

extern "C" {
#include "utils/datetime.h"
#include "utils/json.h"
}

#include <cstring>
#include <string>

namespace users {

namespace {

const char *const kZeroHash = "0000000000000000000000000000000000000000000000000000000000000000";

// A string as jsonb's text form writes it (PostgreSQL's escape_json).
void append_json_string(std::string &out, const std::string &s)
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
                snprintf(buf, sizeof buf, "\\u%04x", ch);
                out += buf;
            } else {
                out += static_cast<char>(ch);
            }
        }
    }
    out += '"';
}

void append_uuid(std::string &out, const pg::Cell &c)
{
    if (c.null) {
        out += "null";
        return;
    }
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        unsigned char b = static_cast<unsigned char>(c.text[i]);
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    out += '"';
}

void append_text(std::string &out, const pg::Cell &c)
{
    if (c.null)
        out += "null";
    else
        append_json_string(out, c.text);
}

// One chain's result.
struct Chain {
    bool platform = false;
    std::string tenant; // 16 raw bytes
    int64_t rows = 0, last_id = 0, first_bad_id = 0;
    std::string last_hash, problem;
};

pg::Statement all_rows = {"SELECT l.id, l.tenant_id, l.created_at, l.actor_id, l.action, l.target,"
                          "       CASE WHEN l.hash_version OPERATOR(pg_catalog.=) 2"
                          "            THEN clinres._admin_log_digested(l.detail, coalesce(l.salt, "
                          "'\\x'::pg_catalog.bytea))::pg_catalog.text"
                          "            WHEN l.detail_sha256 IS NULL THEN l.detail::pg_catalog.text END,"
                          "       pg_catalog.encode(l.detail_sha256, 'hex'), l.change_reason, "
                          "pg_catalog.encode(l.prev_hash, 'hex'),"
                          "       pg_catalog.encode(l.row_hash, 'hex'), l.hash_version::pg_catalog.int4"
                          "  FROM clinres.admin_logs l ORDER BY l.tenant_id, l.id",
                          0,
                          {}};
pg::Statement tenant_rows = {
    "SELECT l.id, l.tenant_id, l.created_at, l.actor_id, l.action, l.target,"
    "       CASE WHEN l.hash_version OPERATOR(pg_catalog.=) 2"
    "            THEN clinres._admin_log_digested(l.detail, coalesce(l.salt, "
    "'\\x'::pg_catalog.bytea))::pg_catalog.text"
    "            WHEN l.detail_sha256 IS NULL THEN l.detail::pg_catalog.text END,"
    "       pg_catalog.encode(l.detail_sha256, 'hex'), l.change_reason, pg_catalog.encode(l.prev_hash, "
    "'hex'),"
    "       pg_catalog.encode(l.row_hash, 'hex'), l.hash_version::pg_catalog.int4"
    "  FROM clinres.admin_logs l WHERE l.tenant_id OPERATOR(pg_catalog.=) $1 ORDER BY l.id",
    1,
    {UUIDOID}};

// created_at as jsonb writes a timestamp (without zone) at UTC.
std::string json_time(int64_t micros)
{
    char buf[MAXDATELEN + 1];
    pg::call([&] { JsonEncodeDateTime(buf, Int64GetDatum(micros), TIMESTAMPOID, nullptr); });
    return buf;
}

// The digest a row's canonical form holds for detail, as its form says (canonical.cpp): SHA-256
// of its text (form 2: of the digested detail), or the digest an erasure kept (form 1 only).
std::string detail_digest(int version, const pg::Cell &text, const pg::Cell &kept)
{
    if (users::detail_digest_of(version, !kept.null) == users::DetailDigest::Kept)
        return kept.text;
    return clinres::sha256_hex(text.text.data(), text.null ? 0 : text.text.size());
}

// _admin_log_walk(tenant_id uuid) -> TABLE(tenant_id, rows, last_id, last_hash, first_bad_id, problem):
// each chain (one tenant's when given) checked in one ordered pass.
Datum walk(FunctionCallInfo fcinfo)
{
    pg::OwnerSpi spi(GetUserId(), false);
    Datum tenant = PG_ARGISNULL(0) ? Datum(0) : PG_GETARG_DATUM(0);
    std::vector<Chain> chains;
    std::string canonical, computed;
    spi.each(PG_ARGISNULL(0) ? all_rows : tenant_rows, PG_ARGISNULL(0) ? nullptr : &tenant, nullptr, false,
             2000, [&](const pg::Rows &rows) {
                 for (std::size_t r = 0; r < rows.size(); ++r) {
                     const pg::Cell &tenant_id = rows.at(r, 1);
                     bool platform = tenant_id.null;
                     if (chains.empty() || chains.back().platform != platform ||
                         chains.back().tenant != tenant_id.text) {
                         Chain next;
                         next.platform = platform;
                         next.tenant = platform ? std::string() : tenant_id.text;
                         chains.push_back(std::move(next));
                     }
                     Chain &c = chains.back();
                     int64_t id = rows.at(r, 0).num;
                     int version = static_cast<int>(rows.at(r, 11).num);
                     const pg::Cell &prev = rows.at(r, 9), &stored = rows.at(r, 10);
                     canonical.clear();
                     canonical += '[';
                     if (version == 2)
                         canonical += "2, ";
                     canonical += std::to_string(id) + ", ";
                     append_json_string(canonical, json_time(rows.at(r, 2).num));
                     canonical += ", ";
                     append_uuid(canonical, rows.at(r, 3));
                     canonical += ", ";
                     append_uuid(canonical, tenant_id);
                     canonical += ", ";
                     append_text(canonical, rows.at(r, 4));
                     canonical += ", ";
                     append_text(canonical, rows.at(r, 5));
                     canonical += ", ";
                     append_json_string(canonical, detail_digest(version, rows.at(r, 6), rows.at(r, 7)));
                     canonical += ", ";
                     append_text(canonical, rows.at(r, 8));
                     canonical += ", ";
                     append_text(canonical, prev);
                     canonical += ']';
                     computed = clinres::sha256_hex(canonical.data(), canonical.size());
                     std::string problem;
                     std::string ids = std::to_string(id), before = std::to_string(c.last_id);
                     if (stored.null || computed != stored.text)
                         problem = "row " + ids +
                                   " does not match its row_hash: it was changed after it was written";
                     else if (c.rows == 0 && (prev.null || prev.text != kZeroHash))
                         problem =
                             "row " + ids + " does not start the chain: the rows before it were deleted";
                     else if (c.rows > 0 && (prev.null || prev.text != c.last_hash))
                         problem = "row " + ids + " does not follow row " + before +
                                   ": a row between them was deleted, or row " + before +
                                   " was changed, or rows were reordered";
                     if (!problem.empty() && c.problem.empty()) {
                         c.problem = problem;
                         c.first_bad_id = id;
                     }
                     ++c.rows;
                     c.last_id = id;
                     c.last_hash = stored.null ? std::string() : stored.text;
                 }
             });
    spi.finish();
    pg::MaterializedRows out(fcinfo);
    for (const Chain &c : chains)
        out.put([&](Datum *values, bool *nulls) {
            for (int i = 0; i < 6; ++i)
                nulls[i] = false;
            if (c.platform) {
                nulls[0] = true;
            } else {
                pg_uuid_t *u = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
                memcpy(u->data, c.tenant.data(), 16);
                values[0] = UUIDPGetDatum(u);
            }
            values[1] = Int64GetDatum(c.rows);
            values[2] = Int64GetDatum(c.last_id);
            values[3] = PointerGetDatum(
                cstring_to_text_with_len(c.last_hash.data(), static_cast<int>(c.last_hash.size())));
            nulls[4] = nulls[5] = c.problem.empty();
            values[4] = Int64GetDatum(c.first_bad_id);
            if (!c.problem.empty())
                values[5] = PointerGetDatum(
                    cstring_to_text_with_len(c.problem.data(), static_cast<int>(c.problem.size())));
        });
    return Datum(0);
}

} // namespace

} // namespace users

CLINRES_FUNCTION(clinres_admin_log_walk, users::walk)
