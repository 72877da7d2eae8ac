// libFuzzer target: arbitrary bytes through the .xlsx reader and header mapping.
#include <cstdint>

#include "clinres/users/import/user_rows.hpp"
#include "fuzz_limits.hpp"

using namespace clinres::import;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view bytes(reinterpret_cast<const char *>(data), size);
    try {
        read_users(bytes, Format::xlsx, fuzz_options());
    } catch (const ImportError &) {
    }
    return 0;
}
