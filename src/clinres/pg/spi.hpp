// SPI queries run as the owner of clinres's catalog, with results copied into C++.
#pragma once

#include "clinres/pg/postgres.hpp"

#include <functional>
#include <string>
#include <vector>

namespace pg {

// One value of a query result: text-like values in text, bool/int/timestamp in num,
// uuid as its 16 raw bytes in text, bytea as its raw bytes in text.
struct Cell {
    bool null = true;
    std::string text;
    int64_t num = 0;
};

struct Rows {
    int ncols = 0;
    std::vector<Cell> cells; // row-major
    size_t size() const { return ncols ? cells.size() / ncols : 0; }
    const Cell &at(size_t row, int col) const { return cells[row * ncols + col]; }
};

// A prepared statement kept for the life of the backend (prepared on first use).
struct Statement {
    const char *sql;
    int nargs;
    Oid argtypes[12]; // nargs of them are used
    SPIPlanPtr plan = nullptr;
    int cursor_options = 0; // SPI_prepare_cursor's, e.g. CURSOR_OPT_GENERIC_PLAN
};

// An SPI connection during which the current user is `owner`; both undone on destruction.
// With latest = true the queries read the newest committed data (plus this
// transaction's earlier commands), as PostgreSQL's own catalog caches do;
// otherwise they read under the active snapshot.
class OwnerSpi {
public:
    OwnerSpi(Oid owner, bool latest);
    ~OwnerSpi();
    OwnerSpi(const OwnerSpi &) = delete;
    OwnerSpi &operator=(const OwnerSpi &) = delete;

    // Runs stmt with the given arguments (nulls: 'n' marks a NULL, as in SPI; nullptr: none),
    // read-only unless writes is true (then each query sees the ones before it, and it may be a
    // write with RETURNING).
    Rows run(Statement &stmt, const Datum *args, const char *nulls = nullptr, bool writes = false);
    // Runs stmt as run() does, through a cursor: each(rows) gets the result batch rows at a time,
    // so that only one batch is held in memory at once.
    void each(Statement &stmt, const Datum *args, const char *nulls, bool writes, long batch,
              const std::function<void(const Rows &)> &each_batch);
    // Runs stmt (read-only) through a cursor and gives each_batch the tuples as the executor made
    // them, batch at a time (the tuple table is freed after each batch): for a pass over many rows
    // that reads them in C++ without copying them into Rows.
    void scan(Statement &stmt, const Datum *args, const char *nulls, long batch,
              const std::function<void(const SPITupleTable &table, uint64 count)> &each_batch);
    // Disconnects from SPI; call once when done (errors become pg::Error).
    void finish();

private:
    Oid saved_user_ = InvalidOid;
    int saved_context_ = 0;
    bool connected_ = false;
    bool pushed_snapshot_ = false;
};

// The plan of sql in slot, prepared and kept for the life of the backend on first use (the plan
// cache replans it after DDL). Plain C (elog on failure), inside an SPI connection: call it under
// pg::call, or where a longjmp passes no C++ object.
SPIPlanPtr kept_plan(SPIPlanPtr &slot, const char *sql, int nargs, const Oid *argtypes,
                     int cursor_options = 0);

// The owner of relation relid (errors become pg::Error).
Oid relation_owner(Oid relid);

} // namespace pg
