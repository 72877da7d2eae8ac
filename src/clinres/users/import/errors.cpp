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
    }
    return "unknown";
}

LimitExceeded::LimitExceeded(Limit limit, std::size_t value)
    : ImportError(std::string("import file exceeds the limit ") + limit_name(limit) + " (" +
                  std::to_string(value) + ")"),
      limit_(limit)
{
}

} // namespace clinres::import
