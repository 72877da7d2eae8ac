// Autonomous statements (autonomous.hpp): the caller's side registers a dynamic background
// worker and waits for it; the worker's side runs one fixed statement in its own transaction.
// The caller hands the worker its arguments and gets the outcome back through a small
// dynamic shared memory segment, pinned until the worker has attached, so that the worker
// can run even if the caller's transaction is cancelled or its backend ends meanwhile.
#include "clinres/pg/autonomous.hpp"

#include "clinres/pg/guard.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
}

#include <cstring>

namespace pg {

namespace {

constexpr int kMaxStatements = 16;
const AutonomousStatement *statements[kMaxStatements];
int nstatements = 0;

enum State : uint32 { kWaiting = 0, kCommitted = 1, kFailed = 2 };

// The segment shared by caller and worker: header, then the arguments, each a marker byte
// ('n' NULL, 'v' a value) followed, for a value, by its NUL-terminated text.
struct Shared {
    Oid database;
    Oid role;
    char statement[NAMEDATALEN];
    int nargs;
    volatile uint32 attached; // the worker has attached (and will unpin the segment)
    volatile uint32 state;
    uint64 rows;
    char error[512];
    char args[FLEXIBLE_ARRAY_MEMBER];
};

// The statement defined under name, or null.
const AutonomousStatement *find_statement(const char *name)
{
    for (int i = 0; i < nstatements; ++i)
        if (strcmp(statements[i]->name, name) == 0)
            return statements[i];
    return nullptr;
}

// Null if role may open a connection, else why not (PostgreSQL 15 refuses a worker a NOLOGIN
// role too).
std::optional<std::string> cannot_connect_as(Oid role)
{
    bool can = false;
    const char *name = nullptr;
    call([&] {
        HeapTuple tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
        if (!HeapTupleIsValid(tup))
            elog(ERROR, "cache lookup failed for role %u", role);
        can = reinterpret_cast<Form_pg_authid>(GETSTRUCT(tup))->rolcanlogin;
        name = pstrdup(NameStr(reinterpret_cast<Form_pg_authid>(GETSTRUCT(tup))->rolname));
        ReleaseSysCache(tup);
    });
    if (can)
        return std::nullopt;
    return "role \"" + std::string(name) + "\" cannot log in, so no background worker can connect as it";
}

} // namespace

void define_autonomous(const AutonomousStatement &stmt)
{
    if (find_statement(stmt.name) != nullptr)
        return; // _PG_init runs once per process; nothing to add again
    if (nstatements == kMaxStatements || strlen(stmt.name) >= NAMEDATALEN)
        elog(ERROR, "clinres cannot define autonomous statement \"%s\"", stmt.name);
    statements[nstatements++] = &stmt;
}

AutonomousResult run_autonomous(const AutonomousStatement &stmt,
                                const std::vector<std::optional<std::string>> &args)
{
    AutonomousResult result;
    if (static_cast<int>(args.size()) != stmt.nargs)
        throw Error(ERRCODE_INTERNAL_ERROR, std::string("clinres autonomous statement \"") + stmt.name +
                                                "\" takes " + std::to_string(stmt.nargs) + " arguments");
    std::string packed;
    for (const auto &a : args) {
        packed += a ? 'v' : 'n';
        if (a) {
            packed += *a;
            packed += '\0';
        }
    }
    Oid role = GetUserId();
    if (auto why = cannot_connect_as(role)) {
        result.why = *why;
        result.hint = "Give the role LOGIN (it need not be allowed in pg_hba.conf).";
        return result;
    }

    dsm_segment *seg = nullptr;
    Shared *shared = nullptr;
    call([&] {
        seg = dsm_create(offsetof(Shared, args) + packed.size(), DSM_CREATE_NULL_IF_MAXSEGMENTS);
        if (seg == nullptr)
            return;
        shared = static_cast<Shared *>(dsm_segment_address(seg));
        memset(shared, 0, offsetof(Shared, args));
        shared->database = MyDatabaseId;
        shared->role = role;
        strlcpy(shared->statement, stmt.name, NAMEDATALEN);
        shared->nargs = stmt.nargs;
        memcpy(shared->args, packed.data(), packed.size());
        dsm_pin_segment(seg); // until the worker has attached, whatever becomes of this transaction
    });
    if (seg == nullptr) {
        result.why = "no dynamic shared memory segment is free";
        return result;
    }
    dsm_handle handle = dsm_segment_handle(seg);

    BackgroundWorker worker = {};
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_ConsistentState; // on a standby too: it fails there, not waits
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "clinres");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "clinres_autonomous_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "clinres autonomous %s", stmt.name);
    snprintf(worker.bgw_type, BGW_MAXLEN, "clinres autonomous");
    worker.bgw_main_arg = UInt32GetDatum(handle);
    worker.bgw_notify_pid = MyProcPid;

    BackgroundWorkerHandle *bgw = nullptr;
    bool registered = false;
    // Every slot busy: other calls' workers free theirs within milliseconds, so poll for one.
    call([&] {
        for (int waited = 0;; waited += 10) {
            registered = RegisterDynamicBackgroundWorker(&worker, &bgw);
            if (registered || waited >= stmt.slot_wait_ms)
                break;
            (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10, PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
            CHECK_FOR_INTERRUPTS();
        }
    });
    BgwHandleStatus status = BGWH_STOPPED;
    if (registered)
        call([&] { status = WaitForBackgroundWorkerShutdown(bgw); });
    pg_read_barrier();
    if (!registered) {
        result.why = "no background worker slot was free within " + std::to_string(stmt.slot_wait_ms) +
                     " ms (max_worker_processes is " + std::to_string(max_worker_processes) + ")";
        result.hint = "Each call holds a max_worker_processes slot for a few milliseconds: raise "
                      "max_worker_processes (a restart is needed) above the parallel workers, replication "
                      "workers and concurrent calls it must serve.";
    } else if (status == BGWH_POSTMASTER_DIED)
        result.why = "the postmaster died";
    else if (shared->state == kCommitted) {
        result.ran = true;
        result.rows = shared->rows;
    } else if (shared->state == kFailed)
        result.why = shared->error;
    else
        result.why = "the background worker ended before its statement ran (see the server log)";
    bool unpin = !registered || (status == BGWH_STOPPED && !shared->attached);
    call([&] {
        if (unpin)
            dsm_unpin_segment(handle); // no worker will
        dsm_detach(seg);
    });
    return result;
}

} // namespace pg

namespace {

// Runs the statement shared names in a transaction of its own, recording the outcome in
// shared. An error is caught, logged and recorded; the transaction is then aborted.
// Holds no C++ objects with destructors (an error longjmps through it).
void run_in_worker(pg::Shared *shared)
{
    MemoryContext cxt = CurrentMemoryContext;
    PG_TRY();
    {
        const pg::AutonomousStatement *stmt = pg::find_statement(shared->statement);
        if (stmt == nullptr || stmt->nargs != shared->nargs)
            elog(ERROR, "clinres autonomous statement \"%s\" is not defined", shared->statement);
        char buf[32];
        snprintf(buf, sizeof buf, "%d", stmt->lock_timeout_ms);
        SetConfigOption("lock_timeout", buf, PGC_SUSET, PGC_S_OVERRIDE);
        SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        SPI_connect();
        PushActiveSnapshot(GetTransactionSnapshot());
        // A transaction id and so a commit record flushed to WAL on every run, whether or not the
        // statement changes a row: every run then costs the same (login times its paths alike).
        (void)GetTopTransactionId();
        pgstat_report_activity(STATE_RUNNING, stmt->sql);
        enable_timeout_after(STATEMENT_TIMEOUT, stmt->statement_timeout_ms); // no main loop here to do it

        Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * (stmt->nargs + 1)));
        Datum *values = static_cast<Datum *>(palloc0(sizeof(Datum) * (stmt->nargs + 1)));
        char *nulls = static_cast<char *>(palloc(stmt->nargs + 1));
        const char *p = shared->args;
        for (int i = 0; i < stmt->nargs; ++i) {
            types[i] = TEXTOID;
            nulls[i] = *p == 'n' ? 'n' : ' ';
            if (*p++ == 'v') {
                values[i] = CStringGetTextDatum(p);
                p += strlen(p) + 1;
            }
        }
        int rc = SPI_execute_with_args(stmt->sql, stmt->nargs, types, values, nulls, false, 0);
        if (rc < 0)
            elog(ERROR, "clinres autonomous statement \"%s\" failed: %s", stmt->name,
                 SPI_result_code_string(rc));
        uint64 rows = SPI_processed;
        disable_timeout(STATEMENT_TIMEOUT, false);
        SPI_finish();
        PopActiveSnapshot();
        CommitTransactionCommand();
        shared->rows = rows;
        pg_write_barrier();
        shared->state = pg::kCommitted;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        ErrorData *e = CopyErrorData();
        strlcpy(shared->error, e->message ? e->message : "unknown error", sizeof shared->error);
        EmitErrorReport();
        FlushErrorState();
        disable_all_timeouts(false);
        AbortCurrentTransaction();
        pg_write_barrier();
        shared->state = pg::kFailed;
    }
    PG_END_TRY();
    pgstat_report_activity(STATE_IDLE, nullptr);
}

} // namespace

extern "C" {
PGDLLEXPORT void clinres_autonomous_main(Datum);

// Entry point of the autonomous worker: attach to the caller's segment, connect as the
// caller's role, run the statement, exit. Its frame holds no C++ objects with destructors,
// so a FATAL or an uncaught ERROR (which ends a background worker) unwinds nothing.
void clinres_autonomous_main(Datum arg)
{
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    CurrentResourceOwner = ResourceOwnerCreate(nullptr, "clinres autonomous");
    dsm_segment *seg = dsm_attach(DatumGetUInt32(arg));
    if (seg == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("clinres autonomous worker found no segment to run")));
    auto *shared = static_cast<pg::Shared *>(dsm_segment_address(seg));
    shared->attached = 1;
    pg_write_barrier();
    dsm_unpin_segment(dsm_segment_handle(seg)); // the segment now lives as long as a mapping does
    BackgroundWorkerInitializeConnectionByOid(shared->database, shared->role, 0);
    run_in_worker(shared);
    dsm_detach(seg);
    proc_exit(0);
}
}
