// Signing and verifying session tokens with the keys in clinres.session_keys.
#pragma once

#include "clinres/session/token.hpp"

#include <string>

namespace session {

// Defines clinres.session_ttl; called from _PG_init.
void init_signer();

// A token for (user, tenant) signed with the newest key, valid for clinres.session_ttl.
std::string sign(const Uuid &user, const Uuid &tenant, int64_t &expires);

// The claims of a token whose MAC, key and expiry check out; otherwise raises
// 28000 (invalid_authorization_specification) with the denial marker (kind "session").
Claims verify(std::string_view token);

} // namespace session
