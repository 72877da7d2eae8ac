// Connection usage read from the backend status array, as pg_stat_activity does.
//
// What counts against max_connections (PostgreSQL 15 to 18): InitProcGlobal (storage/
// lmgr/proc.c) splits the PGPROC slots into freeProcs (MaxConnections: client
// backends), autovacFreeProcs (autovacuum launcher and workers), bgworkerFreeProcs
// (max_worker_processes) and walsenderFreeProcs (max_wal_senders). So only client
// backends (B_BACKEND) use max_connections slots; autovacuum, background workers and
// WAL senders have their own. InitPostgres (utils/init/postinit.c) refuses a
// non-superuser when only superuser_reserved_connections slots are free, and from 16 a
// role without pg_use_reserved_connections when only those plus reserved_connections are,
// so the usable capacity for applications is max_connections - superuser_reserved_connections
// - reserved_connections (pg::reserved_connections() sums what the version has).
#include "clinres/connections/usage.hpp"

#include "clinres/pg/compat.hpp"
#include "clinres/pg/guard.hpp"

#include <string>

extern "C" {
#include "postmaster/postmaster.h"
#include "utils/backend_status.h"
}

namespace conn {

namespace {

int warning_pct = 80;
int critical_pct = 95;

} // namespace

void init_usage()
{
    DefineCustomIntVariable(
        "clinres.connection_warning_pct",
        "Connection usage (percent of usable slots) at which the alert level is 'warning'.",
        "Must not exceed clinres.connection_critical_pct (checked where the levels are used, so that the "
        "two may be set in any order).",
        &warning_pct, 80, 1, 100, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "clinres.connection_critical_pct",
        "Connection usage (percent of usable slots) at which the alert level is 'critical'.", nullptr,
        &critical_pct, 95, 1, 100, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

Usage current_usage()
{
    int connections = 0;
    pg::call([&] {
        int n = pgstat_fetch_stat_numbackends();
        for (int i = 1; i <= n; ++i) {
            LocalPgBackendStatus *local = pg::local_backend_status(i);
            if (local != nullptr && local->backendStatus.st_backendType == B_BACKEND)
                ++connections;
        }
    });
    Usage u;
    u.connections = connections;
    u.max_connections = MaxConnections;
    u.reserved = pg::reserved_connections();
    int usable = usable_connections();
    u.available = usable > connections ? usable - connections : 0;
    u.pct = usable > 0 ? 100.0 * connections / usable : 100.0;
    u.level = level_of(u.pct);
    return u;
}

int usable_connections()
{
    return MaxConnections - pg::reserved_connections();
}

bool thresholds_consistent()
{
    return warning_pct <= critical_pct;
}

void check_thresholds()
{
    if (!thresholds_consistent())
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "clinres.connection_warning_pct (" + std::to_string(warning_pct) +
                            ") exceeds clinres.connection_critical_pct (" + std::to_string(critical_pct) +
                            ")",
                        "The alert level cannot be computed from an inconsistent pair of thresholds.",
                        "Set clinres.connection_warning_pct to at most clinres.connection_critical_pct.");
}

Level level_of(double pct)
{
    if (pct >= critical_pct)
        return kCritical;
    if (pct >= warning_pct)
        return kWarning;
    return kOk;
}

const char *level_name(Level level)
{
    static const char *const names[] = {"ok", "warning", "critical"};
    return names[level];
}

int pool_size(int max_instances, int total)
{
    if (max_instances < 1)
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "max_instances must be at least 1, not " + std::to_string(max_instances));
    if (total < max_instances)
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        std::to_string(total) + " usable connections cannot give each of " +
                            std::to_string(max_instances) + " instances one connection",
                        {},
                        total >= 1
                            ? "Run at most " + std::to_string(total) + " instances, or provide at least " +
                                  std::to_string(max_instances) + " usable connections."
                            : "Provide at least " + std::to_string(max_instances) + " usable connections.");
    return total / max_instances;
}

} // namespace conn
