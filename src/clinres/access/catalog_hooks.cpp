// The registration of a scale-out layer's hooks and the statement text they ask for; see
// catalog_hooks.hpp.
#include "clinres/access/catalog_hooks.hpp"

namespace modaccess {

namespace {

CatalogHooks registered;

// Whether ch may continue an unquoted SQL identifier.
bool identifier_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

} // namespace

std::string on_relations(std::string sql, const std::map<std::string, std::string> &relations)
{
    for (const auto &[name, relation] : relations) {
        std::string table = "clinres." + name;
        size_t at = sql.find(table);
        while (at != std::string::npos) {
            size_t end = at + table.size();
            bool whole = (at == 0 || !identifier_char(sql[at - 1])) &&
                         (end == sql.size() || !identifier_char(sql[end]));
            if (!whole) {
                at = sql.find(table, end);
                continue;
            }
            sql.replace(at, table.size(), relation);
            at = sql.find(table, at + relation.size());
        }
    }
    return sql;
}

void register_catalog_hooks(const CatalogHooks &hooks)
{
    registered = hooks;
}

const CatalogHooks &catalog_hooks()
{
    return registered;
}

} // namespace modaccess
