// Reads the facts the access rules need from clinres's catalog tables, via SPI.
#pragma once

#include "clinres/access/model.hpp"
#include "clinres/pg/postgres.hpp"

#include <unordered_map>
#include <vector>

namespace modaccess {

// The relations whose relcache invalidations are the cache's doorbells (cache.cpp): the
// sequences clinres.access_doorbell_globals, _users (every user), _tenants (every tenant)
// and _log ("read the shared change log"), which no query plan references. All InvalidOid
// if the extension is not installed in this database.
struct Sentinels {
    Oid globals = InvalidOid, users = InvalidOid, tenants = InvalidOid, log = InvalidOid;
    bool operator==(const Sentinels &o) const
    {
        return globals == o.globals && users == o.users && tenants == o.tenants && log == o.log;
    }
};
Sentinels sentinel_relations();

// Each read runs as the catalog's owner; `latest` picks the newest data over the
// active snapshot (see pg::OwnerSpi).
Globals read_globals(Oid sentinel, bool latest);
// A user or tenant as an entry; module and role codes become indexes of g. Unknown ids
// give inactive entries, so that they are cached (and answered false) like any other.
UserFacts read_user(Oid sentinel, bool latest, const Uuid &user, const Globals &g);
// Every user, read in one query, if there are at most at_most (else none).
std::unordered_map<Uuid, UserFacts, UuidHash> read_all_users(Oid sentinel, bool latest, const Globals &g,
                                                             size_t at_most);
// Every member of a tenant, read in one query (a cold scan's bulk load).
std::unordered_map<Uuid, UserFacts, UuidHash> read_tenant_members(Oid sentinel, bool latest,
                                                                  const Uuid &tenant, const Globals &g);
TenantEntry read_tenant(Oid sentinel, bool latest, const Uuid &tenant, const Globals &g);
// The tenants that removed the user and may add it back.
std::vector<Uuid> read_former_tenants(Oid sentinel, bool latest, const Uuid &user);
// Tenants in which the user could hold a module: its memberships, or all for platform roles.
std::vector<Uuid> read_candidate_tenants(Oid sentinel, bool latest, const Uuid &user);

} // namespace modaccess
