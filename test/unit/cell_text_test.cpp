// Numbers, dates and escapes as text.
#include <gtest/gtest.h>

#include "clinres/users/import/cell_text.hpp"
#include "clinres/users/import/sheet.hpp"

using namespace clinres::import;

TEST(CellText, NumbersWithoutExponentOrTrailingZero)
{
    EXPECT_EQ(render_number("13800000001"), "13800000001");
    EXPECT_EQ(render_number("1.3800000001E10"), "13800000001");
    EXPECT_EQ(render_number("13800000001.0"), "13800000001");
    EXPECT_EQ(render_number("1e+20"), "100000000000000000000");
    EXPECT_EQ(render_number("0.30000000000000004"), "0.3");
    EXPECT_EQ(render_number("-0.125"), "-0.125");
    EXPECT_EQ(render_number("2.5E-3"), "0.0025");
    EXPECT_EQ(render_number("-0"), "0");
    EXPECT_EQ(render_number("123456789012345678"), "123456789012346000"); // 15 significant digits, as Excel
    EXPECT_EQ(render_number("abc"), "");
    EXPECT_EQ(render_number("inf"), "");
    EXPECT_EQ(render_number("1 "), "");
}

TEST(CellText, Dates)
{
    EXPECT_EQ(render_date(45366, false), "2024-03-15");
    EXPECT_EQ(render_date(45366.5, false), "2024-03-15T12:00:00");
    EXPECT_EQ(render_date(1, false), "1900-01-01");
    EXPECT_EQ(render_date(60, false), "1900-02-29");
    EXPECT_EQ(render_date(61, false), "1900-03-01");
    EXPECT_EQ(render_date(0.75, false), "18:00:00");
    EXPECT_EQ(render_date(0, true), "1904-01-01");
    EXPECT_EQ(render_date(43904, true), "2024-03-15");
    EXPECT_EQ(render_date(-1, false), "");
    EXPECT_EQ(render_date(1e12, false), "");
}

TEST(CellText, DateFormats)
{
    EXPECT_TRUE(is_date_format(14, ""));
    EXPECT_TRUE(is_date_format(31, "")); // yyyy"年"m"月"d"日" in Chinese Excel
    EXPECT_FALSE(is_date_format(0, ""));
    EXPECT_FALSE(is_date_format(49, ""));
    EXPECT_TRUE(is_date_format(164, "yyyy-mm-dd"));
    EXPECT_TRUE(is_date_format(165, "[$-804]yyyy\"年\"m\"月\";@"));
    EXPECT_FALSE(is_date_format(166, "0.00\"days\""));
    EXPECT_FALSE(is_date_format(167, "[Red]0.00;[Blue]-0.00"));
    EXPECT_FALSE(is_date_format(168, "#,##0_);(#,##0)"));
}

TEST(CellText, XstringEscapes)
{
    EXPECT_EQ(decode_xstring("a_x000D__x000A_b"), "a\r\nb");
    EXPECT_EQ(decode_xstring("_x005F_x0041_"), "_x0041_");
    EXPECT_EQ(decode_xstring("_x4E2D_"), "中");
    EXPECT_EQ(decode_xstring("_x0000_"), "\uFFFD");
    EXPECT_EQ(decode_xstring("_x12_"), "_x12_");
}

TEST(CellText, CellReferences)
{
    std::uint32_t col = 0, row = 0;
    EXPECT_TRUE(parse_cell_ref("C7", col, row));
    EXPECT_EQ(col, 2u);
    EXPECT_EQ(row, 7u);
    EXPECT_TRUE(parse_cell_ref("XFD1048576", col, row));
    EXPECT_EQ(col, 16383u);
    EXPECT_FALSE(parse_cell_ref("7C", col, row));
    EXPECT_FALSE(parse_cell_ref("A0", col, row));
    EXPECT_FALSE(parse_cell_ref("AAAA1", col, row));
    EXPECT_FALSE(parse_cell_ref("a1", col, row));
    EXPECT_EQ(column_name(0), "A");
    EXPECT_EQ(column_name(27), "AB");
    EXPECT_EQ(column_name(16383), "XFD");
}

TEST(CellText, ExcerptsForMessages)
{
    EXPECT_EQ(excerpt("short"), "short");
    EXPECT_EQ(excerpt(std::string(100, 'a')), std::string(40, 'a') + "...");
    EXPECT_EQ(excerpt("a" + std::string(20, 'x') + "中文中文中文中文"),
              "a" + std::string(20, 'x') + "中文中文中文...");
}
