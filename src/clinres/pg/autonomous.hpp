// Autonomous statements: a fixed statement run in a transaction of its own by a dynamic
// background worker, so that what it writes survives whatever the caller's transaction does
// afterwards (docs/sessions.md, "Lockout"). The worker connects to the
// caller's database as the caller's current user, runs the statement, commits and exits; the
// caller waits for it. Works without shared_preload_libraries; needs a free
// max_worker_processes slot per call.
#pragma once

#include "clinres/pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pg {

// A statement run_autonomous may execute. Every parameter is text ($1, $2 ...; the statement
// casts them), so that any value crosses to the worker the same way.
struct AutonomousStatement {
    const char *name; // names it to the worker: unique, at most 63 bytes
    const char *sql;
    int nargs;
    int lock_timeout_ms;      // the worker's lock_timeout
    int statement_timeout_ms; // the worker's statement_timeout
    int slot_wait_ms;         // how long to wait for a free max_worker_processes slot
};

// What became of one run: ran (committed, rows = rows it processed) or not, why not, and
// what to change when the cause is the server's setup (else empty).
struct AutonomousResult {
    bool ran = false;
    uint64 rows = 0;
    std::string why, hint;
};

// Makes stmt (static storage) known to the worker; called from _PG_init, so that every
// process that loads clinres, the worker included, knows the same statements.
void define_autonomous(const AutonomousStatement &stmt);

// Runs stmt with args (nullopt: NULL) in a background worker and waits for it to end. Errors
// of the caller's own (a cancel while waiting) become pg::Error; everything that keeps the
// statement from committing (no free worker slot, the worker's error) is a result with
// ran = false. Once the worker is registered the statement runs even if the caller is gone.
AutonomousResult run_autonomous(const AutonomousStatement &stmt,
                                const std::vector<std::optional<std::string>> &args);

} // namespace pg
