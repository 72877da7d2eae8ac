// Library entry: module magic and _PG_init, which sets up each feature once per backend.
#include "clinres/access/cache.hpp"
#include "clinres/access/change_log.hpp"
#include "clinres/access/shared_table.hpp"
#include "clinres/citus/citus.hpp"
#include "clinres/connections/monitor.hpp"
#include "clinres/pg/postgres.hpp"
#include "clinres/session/context.hpp"
#include "clinres/session/login.hpp"
#include "clinres/session/registry.hpp"
#include "clinres/session/signer.hpp"
#include "clinres/users/import_settings.hpp"
#include "clinres/users/sheet_export.hpp"
#include "clinres/users/trail.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);

// Defines clinres's GUCs, registers its cache callbacks and Citus's hooks into the access
// engine and, when preloaded, the access change log, the shared access table and the monitor.
void _PG_init(void)
{
    modaccess::init_context();
    modaccess::init_cache();
    modaccess::init_change_log();
    modaccess::init_shared_table();
    citus::init();
    session::init_login();
    session::init_signer();
    session::init_registry();
    session::init_ending();
    conn::init_usage();
    conn::init_monitor();
    users::init_import_settings();
    users::init_export_settings();
    users::init_trail();
    MarkGUCPrefixReserved("clinres");
}
}
