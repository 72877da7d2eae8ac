// Connection usage: what occupies max_connections, alert levels and pool sizing.
#pragma once

#include "clinres/pg/postgres.hpp"

namespace conn {

enum Level { kOk = 0, kWarning = 1, kCritical = 2 };

// One reading of the server's connection slots.
struct Usage {
    int connections; // client backends: the processes that take max_connections slots
    int max_connections;
    int reserved;  // superuser_reserved_connections + reserved_connections (16+)
    int available; // usable slots left for ordinary roles
    double pct;    // connections / (max_connections - reserved) * 100
    Level level;
};

// Defines the threshold GUCs; called from _PG_init.
void init_usage();

// Counts the client backends now (the backend-status snapshot of this transaction).
Usage current_usage();

// Whether clinres.connection_warning_pct <= clinres.connection_critical_pct. The GUCs have no
// cross-check of their own (its result would depend on the order the two are set in).
bool thresholds_consistent();

// Throws 22023, with a hint, when the thresholds are inconsistent.
void check_thresholds();

// The alert level of a usage percentage under the current thresholds (with an inconsistent
// pair, critical wins over warning).
Level level_of(double pct);
const char *level_name(Level level);

// max_connections - superuser_reserved_connections - reserved_connections (16+): what
// applications can use.
int usable_connections();

// Per-instance pool size for max_instances instances sharing `total` usable connections.
int pool_size(int max_instances, int total);

} // namespace conn
