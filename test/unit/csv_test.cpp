// The CSV reader: encodings, delimiters, quoting.
#include <gtest/gtest.h>

#include "clinres/users/import/csv_reader.hpp"
#include "helpers.hpp"

using namespace clinres::import;
using test::cell;

namespace {

std::vector<Row> read(const std::string &data, Encoding encoding = Encoding::detect)
{
    ReadOptions options;
    options.encoding = encoding;
    return read_sheet(data, Format::csv, options);
}

} // namespace

TEST(Csv, Utf8WithAndWithoutBom)
{
    for (std::string prefix : {"", "\xEF\xBB\xBF"}) {
        auto rows = read(prefix + "邮箱,姓名\r\na@x.cn,张三\r\n");
        EXPECT_EQ(cell(rows, "A1"), "邮箱");
        EXPECT_EQ(cell(rows, "B2"), "张三");
        EXPECT_EQ(rows.size(), 2u);
    }
}

TEST(Csv, Gb18030DetectedAndGiven)
{
    std::string data = test::generated("gb18030.csv");
    for (Encoding e : {Encoding::detect, Encoding::gb18030}) {
        auto rows = read(data, e);
        EXPECT_EQ(cell(rows, "A1"), "邮箱");
        EXPECT_EQ(cell(rows, "B2"), "李雷");
        EXPECT_EQ(cell(rows, "D2"), "客户管理、财务");
    }
    EXPECT_THROW(read(data, Encoding::utf8), ImportError);
}

TEST(Csv, SemicolonDetectedFromHeader)
{
    auto rows = read("email;name;modules\na@x.cn;Ann;\"crm,erp\"\n");
    EXPECT_EQ(cell(rows, "B2"), "Ann");
    EXPECT_EQ(cell(rows, "C2"), "crm,erp");
    EXPECT_EQ(cell(read("email,name;x\na,b;c\n"), "B2"), "b;c");
}

TEST(Csv, QuotedNewlinesDoubledQuotesAndRowNumbers)
{
    auto rows = read("a,b\r\n\"line1\nline2\",\"say \"\"hi\"\"\"\r\n\r\n,,\r\nlast,\"\"\rmac");
    EXPECT_EQ(cell(rows, "A2"), "line1\nline2");
    EXPECT_EQ(cell(rows, "B2"), "say \"hi\"");
    EXPECT_EQ(cell(rows, "A5"), "last"); // rows 3 and 4 are empty but counted
    EXPECT_EQ(cell(rows, "A6"), "mac");
    EXPECT_EQ(rows.size(), 4u);
}

TEST(Csv, StrayQuotesAndUnclosedQuote)
{
    EXPECT_EQ(cell(read("ab\"c,d\n"), "A1"), "ab\"c");
    try {
        read("a,b\nc,\"never closed\n");
        FAIL();
    } catch (const ImportError &e) {
        EXPECT_STREQ(e.what(),
                     "the CSV file is malformed: the quoted field starting in row 2 is never closed");
    }
}

TEST(Csv, Utf16Refused)
{
    EXPECT_THROW(read(std::string("\xFF\xFE"
                                  "a\0,\0",
                                  6)),
                 ImportError);
}

TEST(Csv, DetectFormat)
{
    EXPECT_EQ(detect_format("PK\3\4"), Format::xlsx);
    EXPECT_EQ(detect_format("email,name"), Format::csv);
}
