// The background monitor: samples connection usage into shared memory and logs
// when the alert level rises (active when clinres is in shared_preload_libraries).
#pragma once

#include "clinres/connections/usage.hpp"

#include <vector>

namespace conn {

struct Sample {
    TimestampTz at;
    Usage usage;
};

// Defines the monitor's GUCs and, when preloading, requests shared memory and
// registers the worker; called from _PG_init.
void init_monitor();

// Whether the monitor's shared memory exists (clinres was preloaded).
bool monitor_running();

// The samples kept in shared memory, oldest first.
std::vector<Sample> monitor_history();

} // namespace conn
