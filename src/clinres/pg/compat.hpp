// What differs between the PostgreSQL major versions clinres supports (15, 16, 17 and 18),
// in one place: every `#if PG_VERSION_NUM` of the extension is in this header, and the
// features call these functions instead.
#pragma once

#include "clinres/pg/postgres.hpp"

#include <cstdlib>
#include <cstring>

extern "C" {
#include "postmaster/postmaster.h"
#include "utils/backend_status.h"
#include "utils/guc_tables.h"
}

namespace pg {

// The local id of this backend's current transaction (MyProc->vxid.lxid from 17).
inline LocalTransactionId local_xid()
{
#if PG_VERSION_NUM >= 170000
    return MyProc->vxid.lxid;
#else
    return MyProc->lxid;
#endif
}

// Entry `i` (1-based, up to pgstat_fetch_stat_numbackends()) of this transaction's snapshot
// of the backend status array; renamed in 16. Can raise an error: call it through pg::call.
inline LocalPgBackendStatus *local_backend_status(int i)
{
#if PG_VERSION_NUM >= 160000
    return pgstat_get_local_beentry_by_index(i);
#else
    return pgstat_fetch_stat_local_beentry(i);
#endif
}

// The max_connections slots an ordinary role cannot use: superuser_reserved_connections, and
// from 16 also reserved_connections (kept for roles with pg_use_reserved_connections).
inline int reserved_connections()
{
#if PG_VERSION_NUM >= 160000
    return SuperuserReservedConnections + ReservedConnections;
#else
    return ReservedBackends;
#endif
}

// Memory for a GUC check hook's *extra, or nullptr when out of memory (no error raised).
// PostgreSQL frees it with guc_free from 16 (which rejects malloc's memory), with free on 15.
inline void *guc_extra_alloc(size_t size)
{
#if PG_VERSION_NUM >= 160000
    return guc_malloc(LOG, size);
#else
    return std::malloc(size);
#endif
}

// The GUC named `name` (exact spelling), or nullptr; raises no error. 15 keeps find_option
// private and its get_guc_variables() is the sorted array itself; 16 exports find_option.
inline const config_generic *find_guc(const char *name)
{
#if PG_VERSION_NUM >= 160000
    return find_option(name, false, true, ERROR);
#else
    config_generic **vars = get_guc_variables();
    for (int i = 0, n = GetNumConfigOptions(); i < n; ++i)
        if (std::strcmp(vars[i]->name, name) == 0)
            return vars[i];
    return nullptr;
#endif
}

} // namespace pg
