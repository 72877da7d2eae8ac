// SPI access to clinres's catalog as its owner; see spi.hpp.
#include "clinres/pg/spi.hpp"

#include "clinres/pg/guard.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/syscache.h"
}

namespace pg {

OwnerSpi::OwnerSpi(Oid owner, bool latest)
{
    GetUserIdAndSecContext(&saved_user_, &saved_context_);
    call([&] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
    });
    connected_ = true;
    if (latest || !ActiveSnapshotSet()) {
        call([&] { PushActiveSnapshot(latest ? GetLatestSnapshot() : GetTransactionSnapshot()); });
        pushed_snapshot_ = true;
    }
    SetUserIdAndSecContext(owner,
                           saved_context_ | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
}

OwnerSpi::~OwnerSpi()
{
    // Restoring the user cannot fail; an unfinished SPI connection is left to
    // transaction abort, which is where an exception in flight is headed.
    SetUserIdAndSecContext(saved_user_, saved_context_);
}

void OwnerSpi::finish()
{
    if (pushed_snapshot_) {
        PopActiveSnapshot();
        pushed_snapshot_ = false;
    }
    if (connected_) {
        connected_ = false;
        call([] { SPI_finish(); });
    }
}

namespace {
// One value as read from an SPI tuple, before it is copied into C++.
struct RawCell {
    bool null;
    Oid type;
    Datum value;
    char *text;
    int len; // of text; -1: NUL-terminated
};

// Prepares stmt once for the life of the backend. Runs under pg::call.
void prepare(Statement &stmt)
{
    kept_plan(stmt.plan, stmt.sql, stmt.nargs, stmt.argtypes, stmt.cursor_options);
}

// The rows of SPI_tuptable copied into C++; the tuple table is freed.
Rows take_tuptable()
{
    Rows rows;
    MemoryContext copy_cxt = nullptr;
    RawCell *raw = nullptr;
    uint64 nrows = 0;
    int ncols = 0;
    call([&] {
        nrows = SPI_processed;
        ncols = SPI_tuptable->tupdesc->natts;
        // The raw copy lives in a context of its own, deleted with the result once copied into C++,
        // so that a caller running many queries on one connection does not accumulate them.
        copy_cxt = AllocSetContextCreate(CurrentMemoryContext, "clinres SPI result", ALLOCSET_DEFAULT_SIZES);
        MemoryContextSwitchTo(copy_cxt);
        raw = static_cast<RawCell *>(palloc0(sizeof(RawCell) * (nrows * ncols + 1)));
        for (uint64 r = 0; r < nrows; ++r)
            for (int c = 0; c < ncols; ++c) {
                RawCell &cell = raw[r * ncols + c];
                cell.type = SPI_gettypeid(SPI_tuptable->tupdesc, c + 1);
                cell.value = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1, &cell.null);
                cell.len = -1;
                if (!cell.null && (cell.type == TEXTOID || cell.type == NAMEOID))
                    cell.text = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1);
                if (!cell.null && cell.type == BYTEAOID) {
                    bytea *b = DatumGetByteaPP(cell.value);
                    cell.text = VARDATA_ANY(b);
                    cell.len = static_cast<int>(VARSIZE_ANY_EXHDR(b));
                }
            }
        MemoryContextSwitchTo(MemoryContextGetParent(copy_cxt));
    });
    rows.ncols = ncols;
    rows.cells.resize(nrows * ncols);
    for (uint64 i = 0; i < nrows * ncols; ++i) {
        const RawCell &in = raw[i];
        Cell &out = rows.cells[i];
        out.null = in.null;
        if (in.null)
            continue;
        if (in.text && in.len >= 0)
            out.text.assign(in.text, static_cast<std::size_t>(in.len));
        else if (in.text)
            out.text = in.text;
        else if (in.type == UUIDOID)
            out.text.assign(reinterpret_cast<const char *>(DatumGetUUIDP(in.value)->data), UUID_LEN);
        else if (in.type == BOOLOID)
            out.num = DatumGetBool(in.value);
        else if (in.type == INT4OID)
            out.num = DatumGetInt32(in.value);
        else if (in.type == INT8OID || in.type == TIMESTAMPTZOID)
            out.num = DatumGetInt64(in.value);
        else
            throw Error(ERRCODE_INTERNAL_ERROR,
                        "clinres catalog query returned an unexpected type " + std::to_string(in.type));
    }
    call([&] {
        SPI_freetuptable(SPI_tuptable);
        MemoryContextDelete(copy_cxt);
    });
    return rows;
}

} // namespace

Rows OwnerSpi::run(Statement &stmt, const Datum *args, const char *nulls, bool writes)
{
    call([&] {
        prepare(stmt);
        int rc = SPI_execute_plan(stmt.plan, const_cast<Datum *>(args), nulls, !writes, 0);
        if (rc != SPI_OK_SELECT && rc != SPI_OK_INSERT_RETURNING && rc != SPI_OK_UPDATE_RETURNING &&
            rc != SPI_OK_DELETE_RETURNING)
            elog(ERROR, "clinres catalog query failed: %s", SPI_result_code_string(rc));
    });
    return take_tuptable();
}

void OwnerSpi::each(Statement &stmt, const Datum *args, const char *nulls, bool writes, long batch,
                    const std::function<void(const Rows &)> &each_batch)
{
    Portal portal = nullptr;
    call([&] {
        prepare(stmt);
        portal = SPI_cursor_open(nullptr, stmt.plan, const_cast<Datum *>(args), nulls, !writes);
    });
    for (;;) {
        call([&] { SPI_cursor_fetch(portal, true, batch); });
        Rows rows = take_tuptable();
        if (rows.size() == 0)
            break;
        each_batch(rows);
    }
    call([&] { SPI_cursor_close(portal); });
}

void OwnerSpi::scan(Statement &stmt, const Datum *args, const char *nulls, long batch,
                    const std::function<void(const SPITupleTable &table, uint64 count)> &each_batch)
{
    Portal portal = nullptr;
    call([&] {
        prepare(stmt);
        portal = SPI_cursor_open(nullptr, stmt.plan, const_cast<Datum *>(args), nulls, true);
    });
    for (;;) {
        SPITupleTable *table = nullptr;
        uint64 count = 0;
        call([&] {
            SPI_cursor_fetch(portal, true, batch);
            table = SPI_tuptable;
            count = SPI_processed;
        });
        if (count > 0)
            each_batch(*table, count);
        call([&] { SPI_freetuptable(table); });
        if (count == 0)
            break;
    }
    call([&] { SPI_cursor_close(portal); });
}

SPIPlanPtr kept_plan(SPIPlanPtr &slot, const char *sql, int nargs, const Oid *argtypes, int cursor_options)
{
    if (slot != nullptr)
        return slot;
    SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, const_cast<Oid *>(argtypes), cursor_options);
    if (plan == nullptr)
        elog(ERROR, "clinres could not prepare a catalog query: %s", SPI_result_code_string(SPI_result));
    SPI_keepplan(plan);
    slot = plan;
    return plan;
}

Oid relation_owner(Oid relid)
{
    Oid owner = InvalidOid;
    call([&] {
        HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
        if (!HeapTupleIsValid(tup))
            elog(ERROR, "cache lookup failed for relation %u", relid);
        owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup))->relowner;
        ReleaseSysCache(tup);
    });
    return owner;
}

} // namespace pg
