// Citus support; see citus.hpp and docs/scale-out.md.
#include "clinres/citus/citus.hpp"

#include "clinres/access/catalog_hooks.hpp"
#include "clinres/pg/compat.hpp"
#include "clinres/pg/guard.hpp"
#include "clinres/pg/spi.hpp"

extern "C" {
#include "access/parallel.h"
#include "commands/extension.h"
}

#include <map>
#include <string>

namespace citus {

namespace {

constexpr const char *kNested = "citus.allow_nested_distributed_execution";
constexpr const char *kPropagate = "citus.propagate_set_commands";

// What this node holds of the catalog: its Citus group, how clinres.modules is
// distributed ('n'/'t' for a reference table, NULL if not) and whether the group
// has a placement of it. (Not the cache's doorbell relation: a sequence is never
// distributed.)
pg::Statement node_sql = {
    "SELECT g.groupid, p.partmethod::pg_catalog.text, p.repmodel::pg_catalog.text,"
    "       EXISTS (SELECT FROM pg_catalog.pg_dist_shard s"
    "                 JOIN pg_catalog.pg_dist_placement pl ON pl.shardid OPERATOR(pg_catalog.=) s.shardid"
    "                WHERE s.logicalrelid OPERATOR(pg_catalog.=) 'clinres.modules'::pg_catalog.regclass"
    "                  AND pl.groupid OPERATOR(pg_catalog.=) g.groupid)"
    "  FROM pg_catalog.pg_dist_local_group g"
    "  LEFT JOIN pg_catalog.pg_dist_partition p"
    "    ON p.logicalrelid OPERATOR(pg_catalog.=) 'clinres.modules'::pg_catalog.regclass",
    0,
    {}};

// Which shard of each catalog table (reference tables have one) this node holds.
pg::Statement shards_sql = {"SELECT c.relname::pg_catalog.text, s.shardid FROM pg_catalog.pg_dist_shard s"
                            "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.logicalrelid"
                            " WHERE c.relnamespace OPERATOR(pg_catalog.=) 'clinres'::pg_catalog.regnamespace",
                            0,
                            {}};

// The transaction in which this node's catalog was last found usable, whether the
// database had Citus then and whether the catalog was distributed (checked once per
// transaction).
LocalTransactionId checked_lxid = InvalidLocalTransactionId;
bool checked_has_citus = false;
bool checked_distributed = false;

// Whether the citus extension is installed in this database.
bool has_citus_extension()
{
    bool found = false;
    pg::call([&] { found = OidIsValid(get_extension_oid("citus", true)); });
    return found;
}

// Raises 55000 unless this node reads the catalog from a local placement of the
// distributed catalog (or is a coordinator whose catalog is not distributed yet);
// returns whether the catalog is distributed.
bool check_node()
{
    pg::OwnerSpi spi(GetUserId(), false);
    pg::Rows rows = spi.run(node_sql, nullptr);
    spi.finish();
    if (rows.size() != 1)
        return false; // no local group row: Citus metadata not set up on this node
    int64_t group = rows.at(0, 0).num;
    const pg::Cell &method = rows.at(0, 1);
    std::string where = group == 0 ? "the coordinator" : "this worker (group " + std::to_string(group) + ")";
    const char *hint = "Run SELECT * FROM clinres.distribute() on the coordinator.";
    if (method.null) {
        if (group == 0)
            return false; // a coordinator's own catalog is the real one until distribute()
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "clinres's catalog is not distributed on this Citus node",
                        "On " + where +
                            " the catalog tables are a local copy that the coordinator never writes; "
                            "answers from it would be wrong.",
                        hint);
    }
    if (method.text != "n" || rows.at(0, 2).text != "t")
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "clinres's catalog is distributed, but not as Citus reference tables",
                        "clinres.modules has partition method '" + method.text + "' and replication model '" +
                            rows.at(0, 2).text + "'.",
                        "Only clinres.distribute() should distribute the catalog.");
    if (rows.at(0, 3).num == 0)
        throw pg::Error(
            ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "this Citus node has no copy of clinres's catalog",
            "On " + where +
                " there is no placement of the catalog's reference tables, so this node would not "
                "hear of catalog changes.",
            hint);
    return true;
}

// Each catalog table (its name in schema clinres) mapped to this node's placement of it
// (clinres.<name>_<shard id>), which is a plain table to Citus; read once per backend (a
// parallel worker's only).
const std::map<std::string, std::string> &placements()
{
    static std::map<std::string, std::string> relations;
    if (!relations.empty())
        return relations;
    pg::OwnerSpi spi(GetUserId(), false);
    pg::Rows rows = spi.run(shards_sql, nullptr);
    spi.finish();
    std::map<std::string, std::string> read;
    for (size_t r = 0; r < rows.size(); ++r)
        read[rows.at(r, 0).text] = "clinres." + rows.at(r, 0).text + "_" + std::to_string(rows.at(r, 1).num);
    relations = std::move(read);
    return relations;
}

// Whether s can be spliced into a SET statement as is: a uuid's text or empty.
bool plain_value(const std::string &s)
{
    for (char ch : s)
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') || ch == '-'))
            return false;
    return true;
}

// Whether the Citus library is loaded in this backend.
bool loaded()
{
    return GetConfigOption(kNested, true, false) != nullptr;
}

// Closes the GUC nest level that before_read opened for one read.
void close_nested(int level)
{
    AtEOXact_GUC(true, level);
}

// The catalog read hook (citus.hpp).
modaccess::CatalogReadPlan before_read()
{
    modaccess::CatalogReadPlan plan;
    if (!loaded())
        return plan;
    if (pg::local_xid() != checked_lxid) {
        checked_has_citus = has_citus_extension();
        checked_distributed = checked_has_citus && check_node();
        checked_lxid = pg::local_xid();
    }
    if (!checked_has_citus)
        return plan;
    if (checked_distributed && IsParallelWorker()) {
        // A query Citus plans fails in a parallel worker (it cannot take part in a
        // distributed transaction): read the placements, which are local tables.
        plan.relations = placements();
        return plan;
    }
    // The read may run inside a query on a shard, where Citus refuses a query on a
    // reference table unless nested execution is allowed: allowed for this read only.
    pg::call([&] {
        int level = NewGUCNestLevel();
        plan.token = level;
        plan.finish = close_nested;
        set_config_option(kNested, "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    });
    return plan;
}

// The context hook (citus.hpp).
void propagate_context()
{
    if (!loaded() || !has_citus_extension())
        return;
    const char *user_value = GetConfigOption("clinres.user_id", true, false);
    const char *tenant_value = GetConfigOption("clinres.tenant_id", true, false);
    std::string user = user_value ? user_value : "", tenant = tenant_value ? tenant_value : "";
    if (!plain_value(user) || !plain_value(tenant))
        throw pg::Error(ERRCODE_INVALID_TEXT_REPRESENTATION, "invalid uuid for the clinres context");
    // Citus sends a SET LOCAL statement's own text to the workers, so each is run as
    // exactly that statement; the values are uuids or empty, so need no quoting.
    std::string set_user = "SET LOCAL clinres.user_id = '" + user + "'";
    std::string set_tenant = "SET LOCAL clinres.tenant_id = '" + tenant + "'";
    pg::call([&] {
        int level = NewGUCNestLevel();
        set_config_option(kPropagate, "local", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        if (SPI_execute(set_user.c_str(), false, 0) != SPI_OK_UTILITY ||
            SPI_execute(set_tenant.c_str(), false, 0) != SPI_OK_UTILITY)
            elog(ERROR, "clinres could not set the context with SET LOCAL");
        SPI_finish();
        // Closes the level: propagate_set_commands is restored, the SET LOCALs stay.
        AtEOXact_GUC(true, level);
    });
}

} // namespace

void init()
{
    modaccess::CatalogHooks hooks;
    hooks.before_read = before_read;
    hooks.context_set = propagate_context;
    modaccess::register_catalog_hooks(hooks);
}

} // namespace citus
