// libFuzzer target: the input is a worksheet, a NUL, then a shared string table and styles (split on a
// second NUL), packed into a stored (uncompressed) .xlsx so that mutations reach the XML handlers
// instead of failing the zip checksum.
#include <zlib.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "clinres/users/import/xlsx_reader.hpp"
#include "fuzz_limits.hpp"

using namespace clinres::import;

namespace {

// Appends a little-endian integer of n bytes.
void put(std::string &out, std::uint32_t value, int n)
{
    for (int i = 0; i < n; ++i)
        out += char((value >> (8 * i)) & 0xFF);
}

// A zip archive of stored entries.
std::string stored_zip(const std::vector<std::pair<std::string, std::string>> &entries)
{
    std::string zip, central;
    for (const auto &[name, content] : entries) {
        std::uint32_t crc =
            std::uint32_t(crc32(0, reinterpret_cast<const Bytef *>(content.data()), uInt(content.size())));
        std::uint32_t offset = std::uint32_t(zip.size());
        put(zip, 0x04034b50, 4), put(zip, 20, 2), put(zip, 0, 2), put(zip, 0, 2), put(zip, 0, 4);
        put(zip, crc, 4), put(zip, std::uint32_t(content.size()), 4),
            put(zip, std::uint32_t(content.size()), 4);
        put(zip, std::uint32_t(name.size()), 2), put(zip, 0, 2);
        zip += name + content;
        put(central, 0x02014b50, 4), put(central, 20, 2), put(central, 20, 2), put(central, 0, 2),
            put(central, 0, 2);
        put(central, 0, 4), put(central, crc, 4), put(central, std::uint32_t(content.size()), 4);
        put(central, std::uint32_t(content.size()), 4), put(central, std::uint32_t(name.size()), 2);
        put(central, 0, 2), put(central, 0, 2), put(central, 0, 2), put(central, 0, 2), put(central, 0, 4);
        put(central, offset, 4);
        central += name;
    }
    std::uint32_t central_at = std::uint32_t(zip.size());
    zip += central;
    put(zip, 0x06054b50, 4), put(zip, 0, 2), put(zip, 0, 2), put(zip, std::uint32_t(entries.size()), 2);
    put(zip, std::uint32_t(entries.size()), 2), put(zip, std::uint32_t(central.size()), 4),
        put(zip, central_at, 4);
    put(zip, 0, 2);
    return zip;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string input(reinterpret_cast<const char *>(data), size);
    std::size_t a = input.find('\0'), b = a == std::string::npos ? a : input.find('\0', a + 1);
    std::string sheet = input.substr(0, a);
    std::string strings =
        a == std::string::npos ? "" : input.substr(a + 1, b == std::string::npos ? b : b - a - 1);
    std::string styles = b == std::string::npos ? "" : input.substr(b + 1);
    const std::string rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    std::string zip = stored_zip({
        {"xl/workbook.xml",
         "<workbook xmlns:r=\"" + rel + "\"><sheets><sheet name=\"S\" r:id=\"a\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels", "<Relationships><Relationship Id=\"a\" Type=\"" + rel +
                                           "/worksheet\" Target=\"s.xml\"/>"
                                           "<Relationship Id=\"b\" Type=\"" +
                                           rel +
                                           "/sharedStrings\" Target=\"t.xml\"/>"
                                           "<Relationship Id=\"c\" Type=\"" +
                                           rel + "/styles\" Target=\"y.xml\"/></Relationships>"},
        {"xl/s.xml", sheet},
        {"xl/t.xml", strings.empty() ? "<sst/>" : strings},
        {"xl/y.xml", styles.empty() ? "<styleSheet/>" : styles},
    });
    try {
        read_xlsx(zip, fuzz_options(), [](const Row &) {});
    } catch (const ImportError &) {
    }
    return 0;
}
