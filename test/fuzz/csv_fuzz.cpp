// libFuzzer target: arbitrary bytes through the CSV reader (both encodings) and header mapping.
#include <cstdint>

#include "clinres/users/import/user_rows.hpp"
#include "fuzz_limits.hpp"

using namespace clinres::import;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view bytes(reinterpret_cast<const char *>(data), size);
    ReadOptions options = fuzz_options();
    options.encoding = size % 2 ? Encoding::detect : Encoding::gb18030;
    try {
        read_users(bytes, Format::csv, options);
    } catch (const ImportError &) {
    }
    return 0;
}
