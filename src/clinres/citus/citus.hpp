// Citus support for the access engine and the context (docs/scale-out.md): the
// catalog read on a node of a Citus cluster, and a context that reaches the workers.
#pragma once

#include "clinres/pg/postgres.hpp"
#include "clinres/pg/spi.hpp"

namespace citus {

// Whether the Citus library is loaded in this backend.
bool loaded();

// Brackets one read of clinres's catalog with stmt. On a
// Citus node it first fails closed (55000) when this node's catalog is not the
// distributed one (a worker's own empty copy, or a node without a placement), then
// allows the read to run inside a query on a shard (citus.allow_nested_distributed_
// execution, for this read only). In a parallel worker, where Citus cannot run a
// query, stmt is pointed at this node's placements of the reference tables instead.
// Does nothing without Citus.
class CatalogRead {
public:
    explicit CatalogRead(pg::Statement &stmt);
    ~CatalogRead();
    CatalogRead(const CatalogRead &) = delete;
    CatalogRead &operator=(const CatalogRead &) = delete;

private:
    int nest_level_ = 0; // GUC nest level opened for the read, 0 if none
};

// Sends the context (clinres.user_id and clinres.tenant_id as they are now) to the
// workers: SET LOCAL statements with citus.propagate_set_commands = local for these
// two statements only, which Citus runs on every worker connection of the
// transaction. modaccess::set_context calls it after setting the values for the
// transaction; does nothing unless Citus is loaded and installed in this database.
void propagate_context();

} // namespace citus
