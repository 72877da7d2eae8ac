// The audit trail's settings (docs/users.md, "The audit trail"): clinres.change_reason and
// clinres.require_change_reason.
#pragma once

#include <optional>
#include <string>

namespace users {

// The reason a new audit row records: clinres.change_reason, trimmed (nullopt when unset or
// blank); pg::Error 22023 when none is set and clinres.require_change_reason is on (not in the
// autonomous worker).
std::optional<std::string> change_reason_for_row();

// Defines clinres.change_reason and clinres.require_change_reason; called from _PG_init.
void init_trail();

} // namespace users
