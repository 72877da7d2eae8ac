// The .xlsx reader on files from openpyxl, libxlsxwriter, LibreOffice and hand-made packages.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>

#include "clinres/users/import/xlsx_reader.hpp"
#include "helpers.hpp"

using namespace clinres::import;
using test::cell;

namespace {

std::vector<Row> read(const std::string &data, const std::string &sheet = "", bool dates = true)
{
    ReadOptions options;
    options.sheet = sheet;
    options.dates_as_iso = dates;
    return read_sheet(data, std::nullopt, options);
}

} // namespace

TEST(XlsxOpenpyxl, FirstVisibleSheetSkipsHiddenOne)
{
    auto rows = read(test::generated("op_users.xlsx"));
    EXPECT_EQ(cell(rows, "A1"), "用户导入");
    EXPECT_EQ(cell(rows, "A2"), "邮箱");
    EXPECT_EQ(cell(rows, "C3"), "13800000001"); // phone typed as a number
    EXPECT_EQ(cell(rows, "E3"), "crm、erp；hr");
    EXPECT_EQ(cell(rows, "C5"), "+86 138 0000 0002");
    EXPECT_EQ(cell(rows, "C6"), "13900000003"); // float 13900000003.0, no trailing .0
    EXPECT_EQ(cell(rows, "A4"), "<none>");      // row 4 is absent
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rows[3].number, 5u);
}

TEST(XlsxOpenpyxl, NamedSheetWithTypes)
{
    auto rows = read(test::generated("op_users.xlsx"), "TYPES");
    EXPECT_EQ(cell(rows, "B1"), "2024-03-15");
    EXPECT_EQ(cell(rows, "B2"), "2024-03-15T09:30:05");
    EXPECT_EQ(cell(rows, "B3"), "TRUE");
    EXPECT_EQ(cell(rows, "B4"), "FALSE");
    EXPECT_EQ(cell(rows, "B5"), "1.5");
    EXPECT_EQ(cell(rows, "B6"), "100000000000000000000"); // stored as 1e+20
    EXPECT_EQ(cell(rows, "B7"), "0.3");
    EXPECT_EQ(cell(rows, "B8"), "-42");
    EXPECT_EQ(cell(rows, "D9"), "sparse");
    EXPECT_EQ(rows.back().cells.front().column, 3u);
}

TEST(XlsxOpenpyxl, DatesAsSerialWhenAsked)
{
    auto rows = read(test::generated("op_users.xlsx"), "types", false);
    EXPECT_EQ(cell(rows, "B1"), "45366");
}

TEST(XlsxOpenpyxl, HiddenSheetByNameAndUnknownName)
{
    EXPECT_EQ(cell(read(test::generated("op_users.xlsx"), "hidden"), "B2"), "should not be read");
    try {
        read(test::generated("op_users.xlsx"), "nope");
        FAIL();
    } catch (const ImportError &e) {
        EXPECT_STREQ(e.what(),
                     "the .xlsx file has no sheet named \"nope\" (its sheets: hidden, 用户, types)");
    }
}

TEST(XlsxLibxlsxwriter, SharedRichNumbersDatesBooleans)
{
    auto rows = read(test::generated("lxw_users.xlsx"));
    EXPECT_EQ(cell(rows, "A1"), "E-mail");
    EXPECT_EQ(cell(rows, "B2"), "Alice Wang"); // rich text runs joined
    EXPECT_EQ(cell(rows, "C2"), "13800000001");
    EXPECT_EQ(cell(rows, "E2"), "crm、erp");
    EXPECT_EQ(cell(rows, "G2"), "2024-03-15");
    EXPECT_EQ(cell(rows, "H2"), "TRUE");
    EXPECT_EQ(cell(rows, "C10"), "1500000000000000");
    EXPECT_EQ(cell(rows, "H10"), "FALSE");
    EXPECT_EQ(rows.back().number, 10u);
}

TEST(XlsxLibxlsxwriter, InlineStrings)
{
    auto rows = read(test::generated("lxw_inline.xlsx"));
    EXPECT_EQ(cell(rows, "B2"), "内联 字符串");
    EXPECT_EQ(cell(rows, "C2"), "42");
}

TEST(XlsxLibreOffice, CsvConvertedWithChineseHeaders)
{
    auto rows = read(test::committed("lo_users.xlsx"));
    EXPECT_EQ(cell(rows, "A1"), "邮箱");
    EXPECT_EQ(cell(rows, "C2"), "13800000001");
    EXPECT_EQ(cell(rows, "B3"), "Bob \"B\" Smith");
    EXPECT_EQ(cell(rows, "F3"), "多行\n备注");
    EXPECT_EQ(cell(rows, "A5"), "carol@example.cn");
    EXPECT_EQ(rows.size(), 4u);
}

TEST(XlsxLibreOffice, SeveralSheetsRichTextDates)
{
    std::string data = test::committed("lo_sheets.xlsx");
    EXPECT_EQ(cell(read(data), "A1"), "hidden notes");
    auto rows = read(data, "Users");
    EXPECT_EQ(cell(rows, "B2"), "Dave Rich");
    EXPECT_EQ(cell(rows, "C2"), "13800000004");
    EXPECT_EQ(cell(rows, "D2"), "2024-03-15");
    EXPECT_EQ(cell(rows, "F2"), "2.5");
    EXPECT_EQ(cell(rows, "C6"), "-0.125");
    EXPECT_EQ(cell(read(data, "Second"), "A1"), "second sheet");
}

TEST(XlsxHandMade, SharedRichPhoneticEscapesAndErrors)
{
    std::string sst = "<si><t>plain</t></si>"
                      "<si><r><rPr><b/></rPr><t>ri</t></r><r><t xml:space=\"preserve\">ch </t></r>"
                      "<rPh sb=\"0\" eb=\"1\"><t>PHONETIC</t></rPh></si>"
                      "<si><t>a_x000D_b_x005F_x0041_</t></si>";
    std::string data = test::make_xlsx(
        "<row r=\"3\"><c r=\"B3\" t=\"s\"><v>0</v></c><c t=\"s\"><v>1</v></c><c t=\"s\"><v>2</v></c>"
        "<c t=\"e\"><v>#N/A</v></c><c t=\"str\"><f>A1</f><v>formula text</v></c><c "
        "t=\"d\"><v>2024-01-02</v></c></row>"
        "<row><c r=\"A4\"><v>1.3800000001E10</v></c><c><v>-1.5e-3</v></c><c/><c><v></v></c><c "
        "t=\"inlineStr\"><is><r><t>in</t></r><r><t>line</t></r></is></c></row>",
        sst);
    auto rows = read(data);
    EXPECT_EQ(cell(rows, "B3"), "plain");
    EXPECT_EQ(cell(rows, "C3"), "rich ");
    EXPECT_EQ(cell(rows, "D3"), "a\rb_x0041_");
    EXPECT_EQ(cell(rows, "E3"), "#N/A");
    EXPECT_EQ(cell(rows, "F3"), "formula text");
    EXPECT_EQ(cell(rows, "G3"), "2024-01-02");
    EXPECT_EQ(cell(rows, "A4"), "13800000001");
    EXPECT_EQ(cell(rows, "B4"), "-0.0015");
    EXPECT_EQ(cell(rows, "E4"), "inline");
    EXPECT_EQ(rows[1].cells.size(), 3u); // empty cells C4, D4 are not reported
}

TEST(XlsxHandMade, PrefixedNamespaceElements)
{
    std::string data = test::make_zip({
        {"xl/workbook.xml",
         std::string("<x:workbook xmlns:x=\"") + test::main_ns + "\" xmlns:r=\"" + test::rel_ns +
             "\"><x:sheets><x:sheet name=\"S\" sheetId=\"1\" r:id=\"a\"/></x:sheets></x:workbook>"},
        {"xl/_rels/workbook.xml.rels",
         std::string("<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
                     "<Relationship Id=\"a\" Type=\"") +
             test::rel_ns + "/worksheet\" Target=\"sheets/../worksheets/s.xml\"/></Relationships>"},
        {"xl/worksheets/s.xml",
         std::string("<x:worksheet xmlns:x=\"") + test::main_ns +
             "\"><x:sheetData><x:row r=\"1\"><x:c xmlns:r=\"urn:x\" r=\"A1\" "
             "t=\"inlineStr\"><x:is><x:t>ok</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>"},
    });
    EXPECT_EQ(cell(read(data), "A1"), "ok");
}

TEST(XlsxHandMade, StreamsManyRows)
{
    std::string rows_xml;
    for (int r = 1; r <= 100000; ++r)
        rows_xml += "<row r=\"" + std::to_string(r) + "\"><c t=\"inlineStr\"><is><t>user" +
                    std::to_string(r) + "@example.cn</t></is></c><c><v>" + std::to_string(13800000000LL + r) +
                    "</v></c></row>";
    std::string data = test::make_xlsx(rows_xml);
    std::size_t seen = 0, heap_at_1000 = 0, heap_growth = 0;
    std::string last;
    read_xlsx(data, ReadOptions{}, [&](const Row &row) {
        ++seen;
        last = row.cells[1].value;
        std::size_t heap = mallinfo2().uordblks;
        if (seen == 1000)
            heap_at_1000 = heap;
        if (seen > 1000 && heap > heap_at_1000)
            heap_growth = std::max(heap_growth, heap - heap_at_1000);
    });
    EXPECT_EQ(seen, 100000u);
    EXPECT_EQ(last, "13800100000");
    EXPECT_LT(heap_growth, 64u * 1024) << "the reader keeps rows it has passed on";
}
