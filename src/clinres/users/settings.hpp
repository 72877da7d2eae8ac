// User management settings (GUCs).
#pragma once

namespace users {

// Defines clinres.bcrypt_cost; called from _PG_init.
void init_settings();

} // namespace users
