// User management settings: the bcrypt cost of the passwords clinres sets.
#include "clinres/users/settings.hpp"

#include "clinres/pg/postgres.hpp"

namespace users {

namespace {
int bcrypt_cost = 10;
} // namespace

void init_settings()
{
    // Superuser-only: a role that could lower it could weaken every password set afterwards.
    DefineCustomIntVariable("clinres.bcrypt_cost", "bcrypt cost (log2 rounds) of passwords set by clinres.",
                            "Read by create_user, reset_password and import_users through clinres._bcrypt_cost().",
                            &bcrypt_cost, 10, 4, 31, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

} // namespace users
