// The audit trail's settings (docs/users.md, "The audit trail"): clinres.change_reason and
// clinres.require_change_reason.
#pragma once

namespace users {

// Defines clinres.change_reason and clinres.require_change_reason; called from _PG_init.
void init_trail();

} // namespace users
