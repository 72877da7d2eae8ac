// Signing and verifying session tokens with the keys in clinres.session_keys.
#pragma once

#include "clinres/session/token.hpp"

#include <string>

namespace session {

// Defines clinres.session_ttl; called from _PG_init.
void init_signer();

// A token for the session (null: a 0.3.0 token naming none) of (user, tenant), signed with the
// newest key, valid for clinres.session_ttl.
std::string sign(const Uuid &user, const Uuid &tenant, const Uuid *session, int64_t &expires);

// The claims of a token whose MAC, key and expiry check out and whose session (if it names
// one: 0.3.0's tokens do not) is live; otherwise raises 28000
// (invalid_authorization_specification) with the denial marker (kind "session").
Claims verify(std::string_view token);

// The same 28000 refusal, saying why.
[[noreturn]] void reject(const std::string &why);

} // namespace session
