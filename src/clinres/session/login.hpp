// Settings of clinres.login: failure limit, lockout and bcrypt cost.
#pragma once

namespace session {

// Defines clinres.login_max_failures, clinres.login_lockout and clinres.bcrypt_cost (superuser-only: a role
// that could lower the cost would weaken every password set afterwards); called from _PG_init.
void init_login();

// clinres.bcrypt_cost.
int bcrypt_cost();

} // namespace session
