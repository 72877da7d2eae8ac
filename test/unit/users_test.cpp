// Header mapping and user rows, on files from every writer.
#include <gtest/gtest.h>

#include "clinres/users/import/user_rows.hpp"
#include "clinres/users/import/writers.hpp"
#include "helpers.hpp"

using namespace clinres::import;

namespace {

using Modules = std::vector<std::string>;

std::optional<std::uint32_t> column_of(const UserFile &file, Field f)
{
    return file.header.columns[std::size_t(f)];
}

} // namespace

TEST(Headers, EnglishChineseAnyCaseAndDecorations)
{
    EXPECT_EQ(header_field("邮箱"), Field::email);
    EXPECT_EQ(header_field(" E-Mail "), Field::email);
    EXPECT_EQ(header_field("email/邮箱"), Field::email);
    EXPECT_EQ(header_field("手机号（phone）*"), Field::phone);
    EXPECT_EQ(header_field("MODULES"), Field::modules);
    EXPECT_EQ(header_field("密码"), Field::password);
    EXPECT_EQ(header_field("password_hash"), Field::password_hash);
    EXPECT_EQ(header_field("密码哈希 (password_hash)"), Field::password_hash);
    EXPECT_EQ(header_field("password/password_hash"), std::nullopt);
    EXPECT_EQ(header_field("valid_from/生效时间"), Field::valid_from);
    EXPECT_EQ(header_field("失效时间"), Field::valid_until);
    EXPECT_EQ(header_field("VALID_UNTIL"), Field::valid_until);
    EXPECT_EQ(header_field("valid_from/valid_until"), std::nullopt);
    EXPECT_EQ(header_field("角色"), Field::role);
    EXPECT_EQ(header_field("姓名"), Field::name);
    EXPECT_EQ(header_field("company name"), std::nullopt);
    EXPECT_EQ(header_field("email/name"), std::nullopt);
    EXPECT_EQ(header_field(""), std::nullopt);
}

TEST(Headers, DuplicateColumnRefused)
{
    Row row{1, {{0, "email"}, {1, "name"}, {3, "邮箱"}}};
    try {
        match_header(row);
        FAIL();
    } catch (const ImportError &e) {
        EXPECT_STREQ(e.what(), "row 1: columns A and D are both email");
    }
}

TEST(Modules, SplitOnEverySeparator)
{
    EXPECT_EQ(split_modules("crm, erp，hr、bi；oa;mail\nx"),
              (Modules{"crm", "erp", "hr", "bi", "oa", "mail", "x"}));
    EXPECT_EQ(split_modules(" 客户管理 、 财务 "), (Modules{"客户管理", "财务"}));
    EXPECT_EQ(split_modules(",,"), Modules{});
}

TEST(Users, OpenpyxlChineseHeadersAfterTitleRow)
{
    UserFile file = read_users(test::generated("op_users.xlsx"), std::nullopt, ReadOptions{});
    EXPECT_EQ(file.header.row_number, 2u);
    EXPECT_EQ(column_of(file, Field::password), 5u);
    EXPECT_EQ(file.header.ignored, std::vector<std::string>{"G (备注)"});
    ASSERT_EQ(file.rows.size(), 3u);
    const UserRow &a = file.rows[0];
    EXPECT_EQ(a.row_no, 3u);
    EXPECT_EQ(a.email, "alice@example.cn");
    EXPECT_EQ(a.phone, "13800000001");
    EXPECT_EQ(a.modules, (Modules{"crm", "erp", "hr"}));
    EXPECT_EQ(a.password, "s3cret pw");
    EXPECT_EQ(file.rows[1].row_no, 5u);
    EXPECT_EQ(file.rows[1].phone, "+86 138 0000 0002");
    EXPECT_EQ(file.rows[2].phone, "13900000003");
    EXPECT_TRUE(file.rows[2].modules.empty());
    EXPECT_EQ(file.rows[2].role, "");
}

TEST(Users, LibxlsxwriterEnglishHeaders)
{
    UserFile file = read_users(test::generated("lxw_users.xlsx"), std::nullopt, ReadOptions{});
    EXPECT_EQ(file.header.ignored, (std::vector<std::string>{"G (Joined)", "H (Active)"}));
    ASSERT_EQ(file.rows.size(), 2u);
    EXPECT_EQ(file.rows[0].name, "Alice Wang");
    EXPECT_EQ(file.rows[0].phone, "13800000001");
    EXPECT_EQ(file.rows[1].row_no, 10u);
}

TEST(Users, LibreOfficeAndCsvAgree)
{
    for (const std::string &data : {test::committed("lo_users.xlsx"), test::committed("lo_users.csv")}) {
        UserFile file = read_users(data, std::nullopt, ReadOptions{});
        ASSERT_EQ(file.rows.size(), 3u);
        EXPECT_EQ(file.rows[0].phone, "13800000001");
        EXPECT_EQ(file.rows[0].modules, (Modules{"crm", "erp"}));
        EXPECT_EQ(file.rows[1].name, "Bob \"B\" Smith");
        EXPECT_EQ(file.rows[2].row_no, 5u);
        EXPECT_EQ(file.header.ignored, std::vector<std::string>{"F (部门)"});
    }
}

TEST(Users, Gb18030Csv)
{
    UserFile file = read_users(test::generated("gb18030.csv"), std::nullopt, ReadOptions{});
    ASSERT_EQ(file.rows.size(), 1u);
    EXPECT_EQ(file.rows[0].name, "李雷");
    EXPECT_EQ(file.rows[0].modules, (Modules{"客户管理", "财务"}));
}

TEST(Users, TrimsValuesButNotPasswordsAndDropsFormulaGuard)
{
    UserFile file = read_users("email,name,password,phone\n\xE3\x80\x80 a@x.cn ,'=Bob, pw ,'+86 1\n",
                               Format::csv, ReadOptions{});
    ASSERT_EQ(file.rows.size(), 1u);
    EXPECT_EQ(file.rows[0].email, "a@x.cn");
    EXPECT_EQ(file.rows[0].name, "=Bob");
    EXPECT_EQ(file.rows[0].password, " pw ");
    EXPECT_EQ(file.rows[0].phone, "+86 1");
}

TEST(Users, ValidityCellsTrimmedAndARowWithOnlyAValidityKept)
{
    UserFile file =
        read_users("邮箱,生效时间,失效时间,姓名\n a@x.cn , 2026-01-01 00:00+08 ,,A\n,,2027-01-01,\n",
                   Format::csv, ReadOptions{});
    ASSERT_EQ(file.rows.size(), 2u);
    EXPECT_EQ(file.rows[0].valid_from, "2026-01-01 00:00+08");
    EXPECT_EQ(file.rows[0].valid_until, "");
    EXPECT_EQ(file.rows[1].valid_until, "2027-01-01"); // the SQL reports its missing email
}

TEST(Users, NoHeader)
{
    EXPECT_THROW(read_users("a,b\n1,2\n", Format::csv, ReadOptions{}), ImportError);
    std::string many;
    for (int i = 0; i < 12; ++i)
        many += "x,y\n";
    many += "email,name\n";
    EXPECT_THROW(read_users(many, Format::csv, ReadOptions{}), ImportError);
}

TEST(Users, EveryRowsHookRunsAndItsExceptionStopsTheRead)
{
    std::string csv = "email,name\n";
    for (int i = 0; i < 2500; ++i)
        csv += "u" + std::to_string(i) + "@x.cn,U\n";
    ReadOptions options;
    int calls = 0;
    options.every_rows = [&] { ++calls; };
    EXPECT_EQ(read_users(csv, Format::csv, options).rows.size(), 2500u);
    EXPECT_EQ(calls, 2); // 2,501 rows read, header included
    struct Cancelled {};
    options.every_rows = [] { throw Cancelled{}; };
    EXPECT_THROW(read_users(csv, Format::csv, options), Cancelled);
    // The same from within expat's callbacks: an .xlsx of the same rows.
    SheetData sheet{"users", {"email", "name"}, {}};
    for (int i = 0; i < 2500; ++i)
        sheet.rows.push_back({"u" + std::to_string(i) + "@x.cn", "U"});
    EXPECT_THROW(read_users(write_xlsx({sheet}), std::nullopt, options), Cancelled);
}
