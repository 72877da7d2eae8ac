// The writers: what they write reads back the same through the readers.
#include <gtest/gtest.h>

#include "clinres/users/import/user_rows.hpp"
#include "clinres/users/import/writers.hpp"
#include "helpers.hpp"

using namespace clinres::import;
using test::cell;

namespace {

SheetData export_sheet()
{
    std::vector<std::string> header = user_headers();
    header.resize(5);
    header.push_back("status");
    return {"users",
            header,
            {{"a@x.cn", "张三", "13800000001", "USER", "crm,erp", "active"},
             {"b@x.cn", "=HYPERLINK(\"http://evil\")", "+86 139 0000 0002", "ADMIN", "", "disabled"},
             {"c@x.cn", "Line\nBreak, \"quoted\"", "", "USER", "", " padded "}}};
}

} // namespace

TEST(Writers, XlsxRoundTrip)
{
    std::string bytes = write_xlsx({export_sheet()});
    EXPECT_EQ(detect_format(bytes), Format::xlsx);
    UserFile file = read_users(bytes, std::nullopt, ReadOptions{});
    ASSERT_EQ(file.rows.size(), 3u);
    EXPECT_EQ(file.rows[0].phone, "13800000001");
    EXPECT_EQ(file.rows[1].name, "=HYPERLINK(\"http://evil\")");
    EXPECT_EQ(file.rows[2].name, "Line\nBreak, \"quoted\"");
    EXPECT_EQ(file.header.ignored, std::vector<std::string>{"F (status)"});
}

TEST(Writers, CsvBomQuotingAndFormulaGuard)
{
    std::string bytes = write_csv(export_sheet());
    EXPECT_EQ(bytes.substr(0, 3), "\xEF\xBB\xBF");
    EXPECT_NE(
        bytes.find("\r\nb@x.cn,\"'=HYPERLINK(\"\"http://evil\"\")\",+86 139 0000 0002,ADMIN,,disabled\r\n"),
        std::string::npos);
    EXPECT_NE(bytes.find("\"Line\nBreak, \"\"quoted\"\"\""), std::string::npos);
    EXPECT_NE(bytes.find("\" padded \""), std::string::npos);
    UserFile file = read_users(bytes, std::nullopt, ReadOptions{});
    ASSERT_EQ(file.rows.size(), 3u);
    EXPECT_EQ(file.rows[1].name, "=HYPERLINK(\"http://evil\")");
    EXPECT_EQ(file.rows[1].phone, "+86 139 0000 0002");
    EXPECT_EQ(file.rows[2].name, "Line\nBreak, \"quoted\"");
    EXPECT_EQ(file.rows[0].modules, (std::vector<std::string>{"crm", "erp"}));
}

TEST(Writers, TemplateXlsxHasExampleAndOptionsSheet)
{
    std::vector<CodeName> roles{{"TENANT_ADMIN", "租户管理员"}, {"USER", "普通用户"}};
    std::vector<CodeName> modules{{"crm", "客户管理"}, {"erp", "资源计划"}, {"hr", "人事"}};
    std::string bytes = users_template(Format::xlsx, roles, modules);
    UserFile file = read_users(bytes, std::nullopt, ReadOptions{});
    for (std::size_t f = 0; f < user_headers().size(); ++f) // every field but password_hash
        EXPECT_EQ(file.header.columns[f], f);
    EXPECT_EQ(file.header.columns[std::size_t(Field::password_hash)], std::nullopt);
    ASSERT_EQ(file.rows.size(), 1u);
    EXPECT_EQ(file.rows[0].phone, "13800000001");
    EXPECT_EQ(file.rows[0].modules, (std::vector<std::string>{"crm", "erp"}));
    ReadOptions options;
    options.sheet = "options 可选值";
    auto rows = read_sheet(bytes, std::nullopt, options);
    EXPECT_EQ(cell(rows, "B2"), "TENANT_ADMIN");
    EXPECT_EQ(cell(rows, "C3"), "普通用户");
    EXPECT_EQ(cell(rows, "C6"), "人事");
    EXPECT_EQ(rows.size(), 6u);
}

TEST(Writers, TemplateCsv)
{
    std::string bytes = users_template(Format::csv, {}, {});
    EXPECT_EQ(bytes, "\xEF\xBB\xBF"
                     "email/邮箱,name/姓名,phone/手机号,role/角色,modules/模块,password/密码,"
                     "valid_from/生效时间,valid_until/失效时间\r\n"
                     "zhang.san@example.com,张三,13800000001,USER,,,,\r\n");
}

TEST(Writers, TempFilesRemovedEvenOnError)
{
    char dir[] = "/tmp/clinres-unit-tmp-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir));
    setenv("TMPDIR", dir, 1);
    write_xlsx({export_sheet()});
    EXPECT_THROW(write_xlsx({SheetData{"bad/name", {"a"}, {}}}), std::runtime_error);
    unsetenv("TMPDIR");
    EXPECT_EQ(rmdir(dir), 0) << "temporary files left in " << dir;
}
