#include "clinres/users/import/errors.hpp"

namespace clinres::import {

const char *limit_name(Limit limit)
{
    switch (limit) {
    case Limit::file_bytes:
        return "file_bytes";
    case Limit::uncompressed_bytes:
        return "uncompressed_bytes";
    case Limit::rows:
        return "rows";
    case Limit::columns:
        return "columns";
    case Limit::cell_bytes:
        return "cell_bytes";
    case Limit::xml_depth:
        return "xml_depth";
    case Limit::text_bytes:
        return "text_bytes";
    case Limit::modules_per_cell:
        return "modules_per_cell";
    }
    return "unknown";
}

std::string excerpt(std::string_view text)
{
    constexpr std::size_t max = 40;
    if (text.size() <= max)
        return std::string(text);
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
        --cut;
    return std::string(text.substr(0, cut)) + "...";
}

LimitExceeded::LimitExceeded(Limit limit, std::size_t value, const std::string &where)
    : ImportError(std::string("import file exceeds the limit ") + limit_name(limit) + " (" +
                  std::to_string(value) + ")" + (where.empty() ? "" : " in " + where)),
      limit_(limit), where_(where)
{
}

} // namespace clinres::import
