// Citus support for the access engine and the context (docs/scale-out.md), registered
// into the engine's hooks (access/catalog_hooks.hpp): the catalog read on a node of a
// Citus cluster, and a context that reaches the workers.
#pragma once

namespace citus {

// Registers the hooks (from _PG_init). Each does nothing unless the Citus library is
// loaded in the backend and the citus extension is installed in the database:
// - before a catalog read, it fails closed (55000) when this node's catalog is not the
//   distributed one (a worker's own empty copy, or a node without a placement), then
//   allows the read to run inside a query on a shard (citus.allow_nested_distributed_
//   execution, for this read only). In a parallel worker, where Citus cannot run a
//   query, the read is pointed at this node's placements of the reference tables instead.
// - after set_context set the context for the transaction, it sends it (clinres.user_id
//   and clinres.tenant_id as they are now) to the workers: SET LOCAL statements with
//   citus.propagate_set_commands = local for these two statements only, which Citus runs
//   on every worker connection of the transaction.
void init();

} // namespace citus
