// The text form of a signed session token. Pure C++: no PostgreSQL headers.
//   <key id>.<user uuid>.<tenant uuid>.<expiry, Unix seconds>.<session uuid>.<HMAC-SHA256, 64 hex digits>
// (0.4.0), or without the session uuid (0.3.0's tokens, which name no session).
// The MAC covers the version's prefix followed by everything before the last dot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "clinres/core/pure.hpp"
#include "clinres/core/uuid.hpp"

namespace session {

using clinres::Uuid;

// Domain separation: a MAC made for anything else with the same key never verifies, nor
// one of a token of the other version (a session uuid cannot be added to or cut from a token).
constexpr std::string_view kSignedPrefix = "clinres-session/2:";
constexpr std::string_view kSessionlessPrefix = "clinres-session/1:";

struct Claims {
    int32_t key_id = 0;
    Uuid user{}, tenant{};
    int64_t expires = 0;      // Unix seconds
    bool has_session = false; // false: a 0.3.0 token
    Uuid session{};
};

// The prefix the MAC of c's token covers before its text.
std::string_view signed_prefix(const Claims &c);

// The part of the token the MAC covers (without kSignedPrefix).
std::string claims_text(const Claims &c);

// The token: claims_text, a dot, the MAC in lower-case hex.
std::string token_text(const Claims &c, const unsigned char *mac, size_t mac_len);

// Splits a token into its claims, the text the MAC covers and the MAC (32 bytes);
// false when it is not well formed (nothing is trusted yet).
bool parse_token(std::string_view token, Claims &out, std::string_view &signed_part, unsigned char mac[32]);

// Equal byte strings, in time independent of where they differ.
bool equal_in_constant_time(const unsigned char *a, const unsigned char *b, size_t n);

} // namespace session
