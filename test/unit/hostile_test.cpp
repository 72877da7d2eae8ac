// Limits, hostile XML and corrupt files: each is a typed error with a clear message, never a crash.
#include <gtest/gtest.h>

#include "clinres/users/import/user_rows.hpp"
#include "helpers.hpp"

using namespace clinres::import;

namespace {

// The limit a read of data exceeds under limits, or a failure if none is exceeded.
Limit exceeded(const std::string &data, const Limits &limits)
{
    ReadOptions options;
    options.limits = limits;
    try {
        read_sheet(data, std::nullopt, options);
    } catch (const LimitExceeded &e) {
        EXPECT_NE(std::string(e.what()).find(limit_name(e.limit())), std::string::npos);
        return e.limit();
    }
    ADD_FAILURE() << "no limit exceeded";
    return Limit::file_bytes;
}

// The message of the ImportError (not a LimitExceeded) a read of data raises.
std::string error_of(const std::string &data)
{
    try {
        read_sheet(data, std::nullopt, ReadOptions{});
    } catch (const LimitExceeded &e) {
        return std::string("limit: ") + e.what();
    } catch (const ImportError &e) {
        return e.what();
    }
    return "no error";
}

std::string inline_cell(const std::string &text)
{
    return "<c t=\"inlineStr\"><is><t>" + text + "</t></is></c>";
}

bool contains(const std::string &s, const std::string &part)
{
    return s.find(part) != std::string::npos;
}

} // namespace

TEST(Limits, FileBytes)
{
    Limits small;
    small.file_bytes = 100;
    EXPECT_EQ(exceeded(test::generated("op_users.xlsx"), small), Limit::file_bytes);
    EXPECT_EQ(exceeded(std::string(101, 'a'), small), Limit::file_bytes);
}

TEST(Limits, UncompressedBytesOfZipBomb)
{
    std::string padding(8u << 20, ' '); // 8 MiB of spaces deflate to a few kB
    std::string data = test::make_xlsx("<row r=\"1\">" + inline_cell("x") + "</row>" + padding);
    ASSERT_LT(data.size(), 100000u);
    Limits limits;
    limits.uncompressed_bytes = 1u << 20;
    EXPECT_EQ(exceeded(data, limits), Limit::uncompressed_bytes);
}

TEST(Limits, UncompressedBytesCheckedWhileInflating)
{
    // An entry whose headers claim 10 bytes but which inflates to 4 MiB is refused, not read in full.
    std::string data = test::make_zip({{"xl/workbook.xml", std::string(4u << 20, ' ')}});
    for (std::size_t at = 0; (at = data.find("PK", at)) != std::string::npos; at += 2) {
        bool local = data.compare(at, 4, "PK\3\4") == 0, central = data.compare(at, 4, "PK\1\2") == 0;
        if (local || central)
            data.replace(at + (local ? 22 : 24), 4, std::string("\x0a\0\0\0", 4));
    }
    std::string message = error_of(data);
    EXPECT_TRUE(contains(message, "corrupt") || contains(message, "uncompressed")) << message;
}

TEST(Limits, RowsColumnsCells)
{
    Limits limits;
    limits.rows = 2;
    EXPECT_EQ(exceeded(test::make_xlsx("<row>" + inline_cell("a") + "</row><row>" + inline_cell("b") +
                                       "</row><row>" + inline_cell("c") + "</row>"),
                       limits),
              Limit::rows);
    EXPECT_EQ(exceeded("a\nb\nc\n", limits), Limit::rows);
    EXPECT_EQ(exceeded(test::make_xlsx("<row><c r=\"KN1\"><v>1</v></c></row>"), Limits{}), Limit::columns);
    limits = Limits{};
    limits.columns = 4;
    EXPECT_EQ(exceeded("a,b,c,d,e\n", limits), Limit::columns);
    std::string big(40000, 'x');
    EXPECT_EQ(exceeded(test::make_xlsx("<row>" + inline_cell(big) + "</row>"), Limits{}), Limit::cell_bytes);
    EXPECT_EQ(exceeded(test::make_xlsx("<row><c t=\"s\"><v>0</v></c></row>", "<si><t>" + big + "</t></si>"),
                       Limits{}),
              Limit::cell_bytes);
    EXPECT_EQ(exceeded("a," + big + "\n", Limits{}), Limit::cell_bytes);
}

TEST(Limits, XmlDepth)
{
    std::string open, close;
    for (int i = 0; i < 100; ++i)
        open += "<x>", close += "</x>";
    EXPECT_EQ(exceeded(test::make_xlsx("<row>" + inline_cell("a") + open + close + "</row>"), Limits{}),
              Limit::xml_depth);
}

TEST(Hostile, DoctypeAndExternalEntitiesRefused)
{
    std::string xxe =
        "<?xml version=\"1.0\"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>";
    std::string message = error_of(test::make_xlsx("<row>" + inline_cell("&xxe;") + "</row>", "", xxe));
    EXPECT_TRUE(contains(message, "DOCTYPE")) << message;
    std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE sst [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
                         "\"&a;&a;&a;&a;&a;&a;&a;&a;\">]>";
    std::string data = test::make_zip({
        {"xl/workbook.xml", std::string("<workbook xmlns:r=\"") + test::rel_ns +
                                "\"><sheets><sheet name=\"S\" r:id=\"r\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels", laughs + "<Relationships/>"},
    });
    EXPECT_TRUE(contains(error_of(data), "DOCTYPE")) << error_of(data);
}

TEST(Hostile, CorruptTruncatedAndWrongFormat)
{
    std::string good = test::generated("lxw_users.xlsx");
    EXPECT_EQ(error_of(good.substr(0, good.size() / 2)),
              "the file is not a valid .xlsx (zip) file: it is corrupt or truncated");
    EXPECT_TRUE(contains(error_of(good.substr(0, good.size() - 10)), "truncated"));
    for (std::size_t at = 100; at < good.size();
         at += 97) { // flipped bytes anywhere: an error or a read, never a crash
        std::string bad = good;
        bad[at] = char(bad[at] ^ 0x5A);
        try {
            read_sheet(bad, std::nullopt, ReadOptions{});
        } catch (const ImportError &) {
        }
    }
    EXPECT_TRUE(contains(error_of("PK\3\4 this is not a zip at all"), "not a valid .xlsx"))
        << error_of("PK\3\4 junk");
    EXPECT_TRUE(contains(error_of(test::make_zip({{"hello.txt", "hi"}})), "not an .xlsx workbook"));
    EXPECT_TRUE(contains(error_of(std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 old", 12)), "legacy .xls"));
    EXPECT_TRUE(contains(error_of(std::string("\x01\x02\0\x03", 4)), "NUL bytes"));
    EXPECT_EQ(error_of(""), "the file is empty");
}

TEST(Hostile, InconsistentSheets)
{
    EXPECT_TRUE(contains(error_of(test::make_xlsx("<row><c t=\"s\"><v>5</v></c></row>", "<si><t>a</t></si>")),
                         "missing shared string"));
    EXPECT_TRUE(contains(error_of(test::make_xlsx("<row r=\"2\"><c r=\"A3\"><v>1</v></c></row>")),
                         "bad cell reference"));
    EXPECT_TRUE(contains(error_of(test::make_xlsx("<row r=\"2\"><c><v>1</v></c></row><row r=\"1\"/>")),
                         "out of order"));
    EXPECT_TRUE(contains(error_of(test::make_xlsx("<row><c><v>1</v></row>")), "not well-formed"));
}

// The hostile shapes of issue 18, finding 2: text a small file decodes to, not the file, is bounded.
TEST(Limits, TextBytesCountEachUseOfASharedString)
{
    // One 32,767-byte shared string used by 300 cells: 9.8 MB of cells from a file of a few kB.
    std::string big(32767, 'a');
    std::string rows;
    for (int r = 1; r <= 300; ++r)
        rows += "<row r=\"" + std::to_string(r) + "\"><c r=\"A" + std::to_string(r) +
                "\" t=\"s\"><v>0</v></c></row>";
    std::string data = test::make_xlsx(rows, "<si><t>" + big + "</t></si>");
    ASSERT_LT(data.size(), 10000u);
    Limits limits;
    limits.text_bytes = 4u << 20;
    EXPECT_EQ(exceeded(data, limits), Limit::text_bytes);
    limits.text_bytes = 300u * 32767 + 32767 + 4; // every use and the stored string: just enough
    ReadOptions options;
    options.limits = limits;
    EXPECT_EQ(read_sheet(data, std::nullopt, options).size(), 300u);
}

TEST(Limits, TextBytesCountTheStoredStringsAndEveryCell)
{
    // Many empty shared strings cost their bookkeeping, though no cell uses them.
    std::string strings;
    for (int i = 0; i < 10000; ++i)
        strings += "<si/>";
    Limits limits;
    limits.text_bytes = 4 * 10000 - 1;
    EXPECT_EQ(exceeded(test::make_xlsx("<row>" + inline_cell("a") + "</row>", strings), limits),
              Limit::text_bytes);
    // Many columns of a wide row, inline strings, and CSV cells (ignored columns too).
    std::string wide = "<row>";
    for (int c = 0; c < 256; ++c)
        wide += inline_cell(std::string(1000, 'w'));
    limits.text_bytes = 200000;
    EXPECT_EQ(exceeded(test::make_xlsx(wide + "</row>"), limits), Limit::text_bytes);
    std::string csv;
    for (int r = 0; r < 101; ++r)
        csv += std::string(1000, 'c') + "," + std::string(1000, 'd') + "\n";
    EXPECT_EQ(exceeded(csv, limits), Limit::text_bytes);
}

TEST(Limits, ModulesPerCellNamesTheRow)
{
    std::string cell = "a";
    for (int i = 0; i < 16383; ++i)
        cell += ";a";
    ReadOptions options;
    try {
        read_users("email,name,modules\nx@y.cn,X,ok\nz@y.cn,Z," + cell + "\n", Format::csv, options);
        ADD_FAILURE() << "no limit exceeded";
    } catch (const LimitExceeded &e) {
        EXPECT_EQ(e.limit(), Limit::modules_per_cell);
        EXPECT_EQ(e.where(), "row 3");
        EXPECT_TRUE(contains(e.what(), "modules_per_cell (64) in row 3")) << e.what();
    }
    EXPECT_EQ(split_modules("a;b;c", 3).size(), 3u);
    EXPECT_THROW(split_modules("a;b;c;d", 3), LimitExceeded);
}

TEST(Hostile, HugeTagRefusedBeforeExpatHoldsIt)
{
    // expat keeps a whole tag in memory until it ends: one attribute of 4 MiB is refused at 1 MB.
    std::string tag = "<row><c r=\"A1\" x=\"" + std::string(4u << 20, 'x') + "\"><v>1</v></c></row>";
    EXPECT_TRUE(contains(error_of(test::make_xlsx(tag)), "longer than 1 MB"))
        << error_of(test::make_xlsx(tag));
    std::string comment = "<row>" + inline_cell("a") + "</row><!--" + std::string(2u << 20, 'c') + "-->";
    EXPECT_TRUE(contains(error_of(test::make_xlsx(comment)), "longer than 1 MB"));
    // Long text is read in pieces: a 30,000-byte cell among 8 MiB of whitespace is fine.
    std::string text = "<row>" + inline_cell(std::string(30000, 't')) + "</row>" + std::string(8u << 20, ' ');
    EXPECT_EQ(read_sheet(test::make_xlsx(text), std::nullopt, ReadOptions{}).size(), 1u);
}
