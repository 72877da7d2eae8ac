// Limits of the fuzz targets: the defaults, smaller where they only cost time.
#pragma once

#include "clinres/users/import/read_rows.hpp"

// Read options for fuzzing: 1 MiB files, 16 MiB inflated, otherwise the defaults.
inline clinres::import::ReadOptions fuzz_options()
{
    clinres::import::ReadOptions options;
    options.limits.file_bytes = 1u << 20;
    options.limits.uncompressed_bytes = 16u << 20;
    return options;
}
