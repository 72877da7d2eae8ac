// The text form of a signed session token. Pure C++: no PostgreSQL headers.
//   <key id>.<user uuid>.<tenant uuid>.<expiry, Unix seconds>.<HMAC-SHA256, 64 hex digits>
// The MAC covers kSignedPrefix followed by everything before the last dot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "clinres/core/pure.hpp"
#include "clinres/core/uuid.hpp"

namespace session {

using clinres::Uuid;

// Domain separation: a MAC made for anything else with the same key never verifies.
constexpr std::string_view kSignedPrefix = "clinres-session/1:";

struct Claims {
    int32_t key_id = 0;
    Uuid user{}, tenant{};
    int64_t expires = 0; // Unix seconds
};

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
