// The one definition of the characters a name or a change reason must not contain (docs/users.md):
// control characters (C0, DEL, C1: a line break would forge a second line of the trail) and the
// invisible ones that could hide or reorder what a reader sees. Pure C++.
#pragma once

#include "clinres/core/pure.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace users {

// A character text must not contain: its code point and its position in characters (from 1).
struct Invisible {
    uint32_t code_point;
    std::size_t position;
};

// Whether a code point is refused: C0 (but NUL, which text cannot hold), DEL, C1, U+200B, U+200E,
// U+200F, U+202A..U+202E, U+2028, U+2029, U+2060..U+2064, U+2066..U+2069, U+FEFF. U+200C/U+200D
// (zero width non-joiner and joiner) are allowed: Persian and Indic names and emoji need them.
bool is_invisible(uint32_t code_point);

// The first refused character of UTF-8 text (utf8 true), or of text in another encoding read
// byte by byte, where only ASCII's control characters are known; nullopt when there is none.
std::optional<Invisible> first_invisible(std::string_view text, bool utf8);

// The number of characters of UTF-8 text (bytes when utf8 is false).
std::size_t character_count(std::string_view text, bool utf8);

} // namespace users
