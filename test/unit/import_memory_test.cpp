// The heap an import holds at its peak: the shared string table holds its text once, however many
// strings it has (issue 18: a table grown by doubling held up to three times its text).
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "clinres/users/import/read_rows.hpp"
#include "helpers.hpp"

namespace {

std::atomic<std::size_t> live_bytes{0};
std::atomic<std::size_t> peak_bytes{0};

// Counts an allocation of the whole test binary (operator new replaced below).
void *counted(std::size_t n)
{
    void *p = std::malloc(n ? n : 1);
    if (!p)
        throw std::bad_alloc();
    std::size_t now = live_bytes += malloc_usable_size(p);
    std::size_t peak = peak_bytes.load();
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
    }
    return p;
}

// Forgets an allocation counted by counted().
void uncounted(void *p) noexcept
{
    if (!p)
        return;
    live_bytes -= malloc_usable_size(p);
    std::free(p);
}

} // namespace

void *operator new(std::size_t n)
{
    return counted(n);
}
void operator delete(void *p) noexcept
{
    uncounted(p);
}
void operator delete(void *p, std::size_t) noexcept
{
    uncounted(p);
}

TEST(ImportMemory, SharedStringTableHoldsItsTextOnce)
{
    // 150,000 distinct 29-byte strings: 4.35 MB of text, a size just past where a doubling string
    // grows from 3.9 to 7.9 MB (and so holds 11.8 MB while it copies).
    constexpr int kStrings = 150000;
    std::string sst;
    sst.reserve(kStrings * 40);
    char s[32];
    for (int i = 0; i < kStrings; ++i) {
        std::snprintf(s, sizeof s, "%029d", i);
        sst += "<si><t>";
        sst += s;
        sst += "</t></si>";
    }
    std::string data = test::make_xlsx("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>149999</v></c></row>", sst);
    sst = std::string();
    clinres::import::ReadOptions options;
    std::size_t before = live_bytes.load();
    peak_bytes = before;
    std::vector<clinres::import::Row> rows = read_sheet(data, std::nullopt, options);
    ASSERT_EQ(rows.size(), 1u);
    const std::string *a1 = rows[0].find(0);
    ASSERT_NE(a1, nullptr);
    EXPECT_EQ(*a1, std::string(23, '0') + "149999");
    std::size_t text = std::size_t(kStrings) * 29, offsets = std::size_t(kStrings) * 4;
    // The text and its offsets once, plus one block and the parser's buffers.
    EXPECT_LE(peak_bytes.load() - before, text + offsets + offsets / 4 + (3u << 20))
        << "peak heap growth " << (peak_bytes.load() - before) << " bytes for " << text << " bytes of text";
}
