// verify_admin_logs' pass over the chains (docs/compliance.md, "What verify_admin_logs checks"):
// one scan of admin_logs in id order (so in each chain's order) through a cursor, each row's
// canonical form rebuilt by the one definition the trigger uses (trail_row.cpp, canonical.cpp),
// hashed with SHA-256 and compared with row_hash, and its prev_hash with the row before it in
// its chain. The rows are read as the executor gives them: nothing is sorted or copied.
#include "clinres/users/canonical.hpp"

#include "clinres/users/chain_head.hpp"
#include "clinres/users/trail_row.hpp"

#include "clinres/pg/datum.hpp"
#include "clinres/pg/spi.hpp"
#include "clinres/pg/srf.hpp"

extern "C" {
#include "access/htup_details.h"
}

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace users {

namespace {

// One chain's result so far.
struct Chain {
    int64_t rows = 0, last_id = 0, first_bad_id = 0;
    std::string last_hash; // raw row_hash of its last row ("" when NULL)
    std::string problem;
};

// A chain: platform-wide (true) or a tenant's, and the tenant's id.
using ChainId = std::pair<bool, ChainKey>;

// The columns a canonical form reads, in id order: every chain's, or one tenant's.
#define CLINRES_TRAIL_COLUMNS                                                                                \
    "SELECT l.id, l.created_at, l.actor_id, l.tenant_id, l.action, l.target, l.detail, l.change_reason,"     \
    " l.prev_hash, l.row_hash, l.hash_version, l.salt, l.detail_sha256 FROM clinres.admin_logs l"
pg::Statement all_rows = {CLINRES_TRAIL_COLUMNS " ORDER BY l.id", 0, {}};
pg::Statement tenant_rows = {
    CLINRES_TRAIL_COLUMNS " WHERE l.tenant_id OPERATOR(pg_catalog.=) $1 ORDER BY l.id", 1, {UUIDOID}};
#undef CLINRES_TRAIL_COLUMNS

// A bytea value's bytes ("" for NULL); in the current memory context.
std::string_view bytes_or_empty(Datum d, bool null)
{
    return null ? std::string_view() : pg::varlena_bytes(d);
}

// Checks one row against its hash and the chain's row before it; the first problem is kept (its
// message written only then: the pass allocates nothing for a good row).
void check(Chain &c, int64_t id, const std::array<uint8_t, 32> &computed, std::string_view stored,
           bool stored_null, std::string_view prev, bool prev_null)
{
    static const std::string zero(32, '\0');
    enum { None, Changed, NotFirst, NotNext } problem = None;
    if (stored_null || stored.size() != computed.size() ||
        std::memcmp(stored.data(), computed.data(), computed.size()) != 0)
        problem = Changed;
    else if (c.rows == 0 && (prev_null || prev != zero))
        problem = NotFirst;
    else if (c.rows > 0 && (prev_null || prev != c.last_hash))
        problem = NotNext;
    if (problem != None && c.problem.empty()) {
        std::string ids = std::to_string(id), before = std::to_string(c.last_id);
        if (problem == Changed)
            c.problem = "row " + ids + " does not match its row_hash: it was changed after it was written";
        else if (problem == NotFirst)
            c.problem = "row " + ids + " does not start the chain: the rows before it were deleted";
        else
            c.problem = "row " + ids + " does not follow row " + before +
                        ": a row between them was deleted, or row " + before +
                        " was changed, or rows were reordered";
        c.first_bad_id = id;
    }
    ++c.rows;
    c.last_id = id;
    c.last_hash.assign(stored.data(), stored_null ? 0 : stored.size());
}

// Lower-case hex of bytes.
std::string hex(const std::string &bytes)
{
    std::string out;
    append_hex(out, bytes);
    return out;
}

// _admin_log_walk(tenant_id uuid) -> TABLE(tenant_id, rows, last_id, last_hash, first_bad_id, problem):
// each chain (one tenant's when given) checked in one pass.
Datum walk(FunctionCallInfo fcinfo)
{
    pg::OwnerSpi spi(GetUserId(), false);
    Datum tenant = PG_ARGISNULL(0) ? Datum(0) : PG_GETARG_DATUM(0);
    std::map<ChainId, Chain> chains;
    std::string text;
    std::array<uint8_t, 32> computed;
    MemoryContext row_cxt = nullptr, caller_cxt = CurrentMemoryContext;
    pg::call(
        [&] { row_cxt = AllocSetContextCreate(caller_cxt, "clinres verify row", ALLOCSET_DEFAULT_SIZES); });
    std::vector<Datum> row_values;
    std::unique_ptr<bool[]> nulls_buf;
    spi.scan(PG_ARGISNULL(0) ? all_rows : tenant_rows, PG_ARGISNULL(0) ? nullptr : &tenant, nullptr, 1000,
             [&](const SPITupleTable &table, uint64 count) {
                 TupleDesc desc = table.tupdesc;
                 TrailRow row(desc);
                 row_values.resize(desc->natts);
                 nulls_buf.reset(new bool[desc->natts]);
                 bool *row_nulls = nulls_buf.get();
                 Chain *c = nullptr;
                 ChainId current{false, {}};
                 for (uint64 i = 0; i < count; ++i) {
                     MemoryContext old = MemoryContextSwitchTo(row_cxt);
                     heap_deform_tuple(table.vals[i], desc, row_values.data(), row_nulls);
                     ChainId cid{row_nulls[row.at(kTenant)], {}};
                     if (!cid.first)
                         std::memcpy(cid.second.data(), DatumGetUUIDP(row_values[row.at(kTenant)])->data, 16);
                     if (c == nullptr || cid != current) {
                         c = &chains[cid];
                         current = cid;
                     }
                     row.hash(row_values.data(), row_nulls, text, computed);
                     check(*c, DatumGetInt64(row_values[row.at(kId)]), computed,
                           bytes_or_empty(row_values[row.at(kRowHash)], row_nulls[row.at(kRowHash)]),
                           row_nulls[row.at(kRowHash)],
                           bytes_or_empty(row_values[row.at(kPrevHash)], row_nulls[row.at(kPrevHash)]),
                           row_nulls[row.at(kPrevHash)]);
                     MemoryContextSwitchTo(old);
                     MemoryContextReset(row_cxt);
                 }
             });
    spi.finish();
    pg::MaterializedRows out(fcinfo);
    for (const auto &entry : chains) {
        const ChainId &cid = entry.first; // not a structured binding: the lambda below captures it
        const Chain &c = entry.second;
        std::string last_hash = hex(c.last_hash);
        out.put([&](Datum *values, bool *nulls) {
            for (int i = 0; i < 6; ++i)
                nulls[i] = false;
            if (cid.first) {
                nulls[0] = true;
            } else {
                pg_uuid_t *u = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
                memcpy(u->data, cid.second.data(), 16);
                values[0] = UUIDPGetDatum(u);
            }
            values[1] = Int64GetDatum(c.rows);
            values[2] = Int64GetDatum(c.last_id);
            values[3] = PointerGetDatum(
                cstring_to_text_with_len(last_hash.data(), static_cast<int>(last_hash.size())));
            nulls[4] = nulls[5] = c.problem.empty();
            values[4] = Int64GetDatum(c.first_bad_id);
            if (!c.problem.empty())
                values[5] = PointerGetDatum(
                    cstring_to_text_with_len(c.problem.data(), static_cast<int>(c.problem.size())));
        });
    }
    return Datum(0);
}

} // namespace

} // namespace users

CLINRES_FUNCTION(clinres_admin_log_walk, users::walk)
