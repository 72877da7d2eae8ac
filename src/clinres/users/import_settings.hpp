// Settings of the users import (GUCs clinres.import_max_*): the limits a file must stay within.
#pragma once

#include "clinres/users/import/errors.hpp"

namespace users {

// Defines the clinres.import_max_* settings; called from _PG_init.
void init_import_settings();

// The most rows with a password one import may have (clinres.import_max_password_rows).
int import_max_password_rows();

// The limits as currently set.
clinres::import::Limits import_limits();

// The setting that holds a limit ("clinres.import_max_rows").
const char *limit_setting(clinres::import::Limit limit);

// The value of a limit in limits.
std::size_t limit_value(const clinres::import::Limits &limits, clinres::import::Limit limit);

} // namespace users
