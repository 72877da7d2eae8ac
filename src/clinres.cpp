// Library entry: module magic and _PG_init, which sets up each feature once per backend.
#include "access/cache.hpp"
#include "access/context.hpp"
#include "connections/monitor.hpp"
#include "pg/postgres.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);

// Defines clinres's GUCs, registers its cache callbacks and, when preloaded, the monitor.
void _PG_init(void)
{
    modaccess::init_context();
    modaccess::init_cache();
    conn::init_usage();
    conn::init_monitor();
    MarkGUCPrefixReserved("clinres");
}
}
