// Where a scale-out layer takes part in the access engine without the engine knowing it
// (docs/scale-out.md): it registers its hooks once, at load (_PG_init), and the catalog
// reads (catalog_reader.cpp) and set_context (context.cpp) call them. With nothing
// registered the engine reads clinres's tables and sets the context locally.
#pragma once

#include <map>
#include <string>

namespace modaccess {

// How one catalog read runs on this node, as the registered layer decides it.
struct CatalogReadPlan {
    // Each catalog table read (its name in schema clinres) mapped to the schema-qualified
    // relation that holds its rows on this node; empty: the tables themselves.
    std::map<std::string, std::string> relations;
    // Called after the read succeeded (not on an error, which the abort unwinds); may be empty.
    void (*finish)(int token) = nullptr;
    int token = 0;
};

struct CatalogHooks {
    // Before each catalog read: may raise (fail closed when this node's catalog is not usable).
    CatalogReadPlan (*before_read)() = nullptr;
    // After set_context set the context for the transaction (is_local).
    void (*context_set)() = nullptr;
};

// sql with each catalog table it names as clinres.<table> replaced by the relation given for
// <table> (a longer name, clinres.<table>_x, is left alone). Pure: no PostgreSQL.
std::string on_relations(std::string sql, const std::map<std::string, std::string> &relations);

// Registers the layer's hooks (at most one layer: a second registration replaces the first).
void register_catalog_hooks(const CatalogHooks &hooks);

// The registered hooks (all null when none is registered).
const CatalogHooks &catalog_hooks();

} // namespace modaccess
