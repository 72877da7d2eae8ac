// Whether a session (clinres.sessions) is live, cached per backend and never stale: the
// cache is emptied by a relcache invalidation of clinres.session_doorbell, which the
// sessions table's triggers ring when a session ends (docs/sessions.md, "Sessions").
#pragma once

#include "clinres/core/uuid.hpp"
#include "clinres/pg/postgres.hpp"

namespace session {

// Registers the invalidation and transaction callbacks; called from _PG_init.
void init_registry();

// Makes the ending of sessions known to the autonomous worker (ending.cpp); called from _PG_init.
void init_ending();

// Returns if the session of (user, tenant) exists, has not ended and has not expired at
// this instant; otherwise raises 28000 saying which.
void require_live(const clinres::Uuid &session, const clinres::Uuid &user, const clinres::Uuid &tenant);

// Trigger body: rings the doorbell (every backend drops its cached sessions), raising
// 42501 unless it fired on clinres.sessions.
void ring_doorbell(Oid fired_on);

} // namespace session
