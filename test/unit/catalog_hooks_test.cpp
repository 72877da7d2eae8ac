// on_relations, the statement text a scale-out layer's CatalogReadPlan asks for: every
// catalog table a statement names, and only those names, read from the relation given.
#include "clinres/access/catalog_hooks.hpp"

#include <gtest/gtest.h>

using namespace modaccess;

TEST(OnRelations, ReplacesEveryMentionOfEachTable)
{
    std::map<std::string, std::string> placements = {{"users", "clinres.users_102008"},
                                                     {"user_tenants", "clinres.user_tenants_102010"}};
    EXPECT_EQ(
        on_relations("SELECT u.id FROM clinres.users u JOIN clinres.user_tenants ut ON ut.user_id = u.id"
                     " UNION SELECT x.id FROM clinres.users x",
                     placements),
        "SELECT u.id FROM clinres.users_102008 u JOIN clinres.user_tenants_102010 ut ON ut.user_id = u.id"
        " UNION SELECT x.id FROM clinres.users_102008 x");
}

TEST(OnRelations, LeavesLongerNamesAndOtherSchemasAlone)
{
    std::map<std::string, std::string> placements = {{"user", "clinres.user_7"},
                                                     {"modules", "clinres.modules_9"}};
    EXPECT_EQ(on_relations("FROM clinres.users, clinres.user_modules, myclinres.modules, clinres.modules",
                           placements),
              "FROM clinres.users, clinres.user_modules, myclinres.modules, clinres.modules_9");
    // A table whose relation name starts with its own: each mention replaced once.
    EXPECT_EQ(on_relations("clinres.modules", placements), "clinres.modules_9");
}

TEST(OnRelations, NoRelationsNoChange)
{
    EXPECT_EQ(on_relations("SELECT 1 FROM clinres.users", {}), "SELECT 1 FROM clinres.users");
}
