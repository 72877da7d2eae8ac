// The characters a name or a change reason must not contain (visible_text.hpp).
#include "clinres/users/visible_text.hpp"

namespace users {

namespace {

// The length of the UTF-8 sequence a lead byte starts (1 for ASCII and stray bytes).
std::size_t sequence_length(unsigned char b)
{
    return b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
}

} // namespace

bool is_invisible(uint32_t cp)
{
    return (cp > 0 && cp < 0x20) || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200B || cp == 0x200E ||
           cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

std::optional<Invisible> first_invisible(std::string_view text, bool utf8)
{
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++chars) {
        auto b = static_cast<unsigned char>(text[i]);
        std::size_t len = utf8 ? sequence_length(b) : 1;
        uint32_t cp = len == 1 ? b : b & (0x3Fu >> (len - 1));
        for (std::size_t k = 1; k < len && i + k < text.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
        if (is_invisible(cp) && (utf8 || cp < 0x80))
            return Invisible{cp, chars + 1};
        i += len;
    }
    return std::nullopt;
}

std::size_t character_count(std::string_view text, bool utf8)
{
    if (!utf8)
        return text.size();
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++chars)
        i += sequence_length(static_cast<unsigned char>(text[i]));
    return chars;
}

} // namespace users
