// Reads the facts the access rules need from clinres's catalog tables, via SPI.
#pragma once

#include "access/model.hpp"
#include "pg/postgres.hpp"

#include <vector>

namespace modaccess {

// The OID of clinres.modules, which stands for the whole catalog in invalidations
// (InvalidOid if the extension is not installed in this database).
Oid sentinel_relation();

// Each read runs as the catalog's owner; `latest` picks the newest data over the
// active snapshot (see pg::OwnerSpi).
Globals read_globals(Oid sentinel, bool latest);
Facts read_facts(Oid sentinel, bool latest, const Key &key);
// Tenants in which the user could hold a module: its memberships, or all for platform roles.
std::vector<Uuid> read_candidate_tenants(Oid sentinel, bool latest, const Uuid &user);

}  // namespace modaccess
