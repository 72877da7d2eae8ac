#include "clinres/users/import/writers.hpp"

namespace clinres::import {

const std::vector<std::string> &user_headers()
{
    static const std::vector<std::string> headers{
        "email/邮箱",   "name/姓名",     "phone/手机号",        "role/角色",
        "modules/模块", "password/密码", "valid_from/生效时间", "valid_until/失效时间"};
    return headers;
}

std::string users_template(Format format, const std::vector<CodeName> &roles,
                           const std::vector<CodeName> &modules)
{
    std::string example_modules;
    for (std::size_t i = 0; i < modules.size() && i < 2; ++i)
        example_modules += (i ? "," : "") + modules[i].code;
    SheetData users{"users 用户",
                    user_headers(),
                    {{"zhang.san@example.com", "张三", "13800000001",
                      roles.empty() ? "USER" : roles.front().code, example_modules, "", "", ""}}};
    if (format == Format::csv)
        return write_csv(users);
    SheetData options{"options 可选值", {"kind/类别", "code/代码", "name/名称"}, {}};
    for (const CodeName &role : roles)
        options.rows.push_back({"role/角色", role.code, role.name});
    for (const CodeName &module : modules)
        options.rows.push_back({"modules/模块", module.code, module.name});
    return write_xlsx({users, options});
}

} // namespace clinres::import
