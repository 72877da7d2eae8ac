// Background worker that samples connection usage every clinres.monitor_interval,
// keeps the last clinres.monitor_history samples in shared memory, and logs a WARNING
// when usage rises to the warning level and again at critical (not on every sample).
#include "clinres/connections/monitor.hpp"

#include "clinres/pg/guard.hpp"

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/backend_status.h"
}

namespace conn {

namespace {

struct Shared {
    slock_t mutex;
    int capacity;
    int next;  // slot of the next sample
    int count; // samples kept
    Sample samples[FLEXIBLE_ARRAY_MEMBER];
};

Shared *shared = nullptr;
int interval_s = 300;
int history_size = 288;
shmem_request_hook_type prev_request = nullptr;
shmem_startup_hook_type prev_startup = nullptr;

Size shared_size()
{
    return add_size(offsetof(Shared, samples), mul_size(sizeof(Sample), history_size));
}

// shmem_request_hook: reserves the ring of samples.
void request_shmem()
{
    if (prev_request)
        prev_request();
    RequestAddinShmemSpace(shared_size());
}

// shmem_startup_hook: attaches to (or creates) the ring.
void startup_shmem()
{
    if (prev_startup)
        prev_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found;
    shared = static_cast<Shared *>(ShmemInitStruct("clinres connection monitor", shared_size(), &found));
    if (!found) {
        SpinLockInit(&shared->mutex);
        shared->capacity = history_size;
        shared->next = 0;
        shared->count = 0;
    }
    LWLockRelease(AddinShmemInitLock);
}

// Appends one sample to the ring.
void record(const Sample &s)
{
    SpinLockAcquire(&shared->mutex);
    shared->samples[shared->next] = s;
    shared->next = (shared->next + 1) % shared->capacity;
    if (shared->count < shared->capacity)
        ++shared->count;
    SpinLockRelease(&shared->mutex);
}

// Logs a change of alert level: WARNING on the way up, LOG on the way down.
void report(Level from, const Usage &u)
{
    if (u.level > from)
        ereport(WARNING, (errmsg("connection usage is %s: %d of %d usable connections (%.1f%%)",
                                 level_name(u.level), u.connections, u.max_connections - u.reserved, u.pct),
                          errhint("Lower the pool size of the application instances (see clinres.pool_size) "
                                  "or raise max_connections.")));
    else
        ereport(LOG, (errmsg("connection usage is back to %s: %d of %d usable connections (%.1f%%)",
                             level_name(u.level), u.connections, u.max_connections - u.reserved, u.pct)));
}

// Takes one sample into s; a failure is returned as an ErrorData to report.
ErrorData *take_sample(Sample &s)
{
    try {
        pgstat_clear_backend_activity_snapshot();
        s = Sample{GetCurrentTimestamp(), current_usage()};
        return nullptr;
    } catch (const pg::Error &e) {
        return e.caught();
    }
}

} // namespace

extern "C" {
PGDLLEXPORT void clinres_monitor_main(Datum);

// Entry point of the monitor worker. Its frame holds no C++ objects with
// destructors, so an ERROR (which ends a background worker) unwinds nothing.
void clinres_monitor_main(Datum)
{
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
    BackgroundWorkerUnblockSignals();
    Level last = kOk;
    bool warned_thresholds = false;
    while (!ShutdownRequestPending) {
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
            warned_thresholds = false;
        }
        if (!warned_thresholds && !thresholds_consistent()) {
            ereport(WARNING,
                    (errmsg("clinres.connection_warning_pct exceeds clinres.connection_critical_pct"),
                     errhint("Fix the pair in postgresql.conf; until then a usage at or above the "
                             "critical level is reported as critical and nothing as warning below it.")));
            warned_thresholds = true;
        }
        Sample s;
        if (ErrorData *failed = take_sample(s))
            ReThrowError(failed); // ends the worker; the postmaster restarts it
        record(s);
        if (s.usage.level != last)
            report(last, s.usage);
        last = s.usage.level;
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, interval_s * 1000L,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
    proc_exit(0);
}
}

void init_monitor()
{
    DefineCustomIntVariable("clinres.monitor_interval",
                            "Seconds between two samples of the connection monitor.", nullptr, &interval_s,
                            300, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    if (!process_shared_preload_libraries_in_progress)
        return; // a PGC_POSTMASTER setting can only be defined while preloading
    DefineCustomIntVariable("clinres.monitor_history",
                            "Number of connection-usage samples kept in shared memory.", nullptr,
                            &history_size, 288, 1, 100000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    prev_request = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_startup = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;

    BackgroundWorker worker = {};
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 10;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "clinres");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "clinres_monitor_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "clinres connection monitor");
    snprintf(worker.bgw_type, BGW_MAXLEN, "clinres connection monitor");
    RegisterBackgroundWorker(&worker);
}

bool monitor_running()
{
    return shared != nullptr;
}

std::vector<Sample> monitor_history()
{
    std::vector<Sample> out;
    if (shared == nullptr)
        return out;
    out.reserve(shared->capacity);
    SpinLockAcquire(&shared->mutex);
    int first = (shared->next - shared->count + shared->capacity) % shared->capacity;
    for (int i = 0; i < shared->count; ++i)
        out.push_back(shared->samples[(first + i) % shared->capacity]);
    SpinLockRelease(&shared->mutex);
    return out;
}

} // namespace conn
