#include "clinres/users/import/user_rows.hpp"

#include <algorithm>
#include <utility>

namespace clinres::import {

namespace {

constexpr std::uint32_t header_search_rows = 10;

// Accepted header words per field, compared after ASCII lower-casing.
const std::pair<Field, std::string_view> aliases[] = {
    {Field::email, "email"},
    {Field::email, "e-mail"},
    {Field::email, "mail"},
    {Field::email, "邮箱"},
    {Field::email, "电子邮箱"},
    {Field::email, "电子邮件"},
    {Field::email, "邮件"},
    {Field::name, "name"},
    {Field::name, "姓名"},
    {Field::name, "名字"},
    {Field::phone, "phone"},
    {Field::phone, "mobile"},
    {Field::phone, "tel"},
    {Field::phone, "telephone"},
    {Field::phone, "手机号"},
    {Field::phone, "手机"},
    {Field::phone, "手机号码"},
    {Field::phone, "电话"},
    {Field::phone, "联系电话"},
    {Field::role, "role"},
    {Field::role, "角色"},
    {Field::modules, "modules"},
    {Field::modules, "module"},
    {Field::modules, "模块"},
    {Field::password, "password"},
    {Field::password, "密码"},
    {Field::password, "初始密码"},
    {Field::password_hash, "password_hash"},
    {Field::password_hash, "密码哈希"},
    {Field::valid_from, "valid_from"},
    {Field::valid_from, "生效时间"},
    {Field::valid_until, "valid_until"},
    {Field::valid_until, "失效时间"},
};

// Separators between the words of a header cell ("邮箱 (email)", "手机号/phone*").
const std::string_view header_separators[] = {" ", "\t", "\r",     "\n", "/",  "(",  ")",  "*",
                                              ":", "|",  "\u3000", "（", "）", "＊", "：", "／"};

// Separators between modules in a cell.
const std::string_view module_separators[] = {",", ";", "\n", "\r", "，", "、", "；"};

// Length of the separator from the list starting at s[i], or 0.
template <std::size_t N>
std::size_t separator_at(std::string_view s, std::size_t i, const std::string_view (&list)[N])
{
    for (std::string_view sep : list)
        if (s.substr(i, sep.size()) == sep)
            return sep.size();
    return 0;
}

// Calls piece for each piece of s between separators, empty pieces left out.
template <std::size_t N, typename Piece>
void each_piece(std::string_view s, const std::string_view (&list)[N], const Piece &piece)
{
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size();) {
        std::size_t len = i < s.size() ? separator_at(s, i, list) : 1;
        if (len == 0) {
            ++i;
            continue;
        }
        if (i > start)
            piece(s.substr(start, i - start));
        i += len;
        start = i;
    }
}

// The pieces of s between separators, empty pieces dropped.
template <std::size_t N> std::vector<std::string> split(std::string_view s, const std::string_view (&list)[N])
{
    std::vector<std::string> out;
    each_piece(s, list, [&](std::string_view p) { out.emplace_back(p); });
    return out;
}

// s without surrounding ASCII whitespace, no-break spaces (U+00A0) or ideographic spaces (U+3000).
std::string_view trim(std::string_view s)
{
    for (;;) {
        if (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
            s.remove_prefix(1);
        else if (s.substr(0, 2) == "\u00A0")
            s.remove_prefix(2);
        else if (s.substr(0, 3) == "\u3000")
            s.remove_prefix(3);
        else
            break;
    }
    for (;;) {
        std::size_t n = s.size();
        if (n && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
            s.remove_suffix(1);
        else if (n >= 2 && s.substr(n - 2) == "\u00A0")
            s.remove_suffix(2);
        else if (n >= 3 && s.substr(n - 3) == "\u3000")
            s.remove_suffix(3);
        else
            break;
    }
    return s;
}

// A trimmed value without the apostrophe the CSV writer puts before a leading = + - @.
std::string clean(std::string_view value)
{
    value = trim(value);
    if (value.size() > 1 && value[0] == '\'' &&
        std::string_view("=+-@").find(value[1]) != std::string_view::npos)
        value.remove_prefix(1);
    return std::string(value);
}

} // namespace

const char *field_name(Field field)
{
    static const char *const names[] = {"email",    "name",       "phone",       "role",         "modules",
                                        "password", "valid_from", "valid_until", "password_hash"};
    return names[std::size_t(field)];
}

std::optional<Field> header_field(std::string_view header)
{
    std::string lower(header);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; });
    std::optional<Field> found;
    for (const std::string &word : split(lower, header_separators)) {
        auto alias = std::find_if(std::begin(aliases), std::end(aliases),
                                  [&](const auto &a) { return a.second == word; });
        if (alias == std::end(aliases) || (found && *found != alias->first))
            return std::nullopt;
        found = alias->first;
    }
    return found;
}

std::optional<HeaderMap> match_header(const Row &row)
{
    HeaderMap map;
    map.row_number = row.number;
    for (const Cell &cell : row.cells) {
        std::optional<Field> field = header_field(cell.value);
        if (!field) {
            map.ignored.push_back(column_name(cell.column) + " (" + std::string(trim(cell.value)) + ")");
            continue;
        }
        auto &slot = map.columns[std::size_t(*field)];
        if (slot)
            throw ImportError("row " + std::to_string(row.number) + ": columns " + column_name(*slot) +
                              " and " + column_name(cell.column) + " are both " + field_name(*field));
        slot = cell.column;
    }
    if (!map.columns[std::size_t(Field::email)] || !map.columns[std::size_t(Field::name)])
        return std::nullopt;
    return map;
}

std::vector<std::string> split_modules(std::string_view cell, std::size_t max_pieces)
{
    std::vector<std::string> out;
    each_piece(cell, module_separators, [&](std::string_view piece) {
        std::string_view t = trim(piece);
        if (t.empty())
            return;
        if (out.size() >= max_pieces)
            throw LimitExceeded(Limit::modules_per_cell, max_pieces);
        out.emplace_back(t);
    });
    return out;
}

UserRow map_row(const HeaderMap &header, const Row &row, const Limits &limits)
{
    UserRow user;
    user.row_no = row.number;
    auto value = [&](Field f) -> const std::string * {
        const auto &col = header.columns[std::size_t(f)];
        return col ? row.find(*col) : nullptr;
    };
    if (auto *v = value(Field::email))
        user.email = clean(*v);
    if (auto *v = value(Field::name))
        user.name = clean(*v);
    if (auto *v = value(Field::phone))
        user.phone = clean(*v);
    if (auto *v = value(Field::role))
        user.role = clean(*v);
    if (auto *v = value(Field::password))
        user.password = *v;
    if (auto *v = value(Field::password_hash))
        user.password_hash = clean(*v);
    if (auto *v = value(Field::valid_from))
        user.valid_from = clean(*v);
    if (auto *v = value(Field::valid_until))
        user.valid_until = clean(*v);
    if (auto *v = value(Field::modules)) {
        try {
            user.modules = split_modules(clean(*v), limits.modules_per_cell);
        } catch (const LimitExceeded &e) {
            throw LimitExceeded(e.limit(), limits.modules_per_cell, "row " + std::to_string(row.number));
        }
    }
    return user;
}

void stream_users(std::string_view data, std::optional<Format> format, const ReadOptions &options,
                  const std::function<void(const HeaderMap &)> &on_header,
                  const std::function<void(UserRow &&)> &on_user)
{
    HeaderMap map;
    bool have_header = false;
    std::uint32_t seen = 0;
    read_rows(data, format, options, [&](const Row &row) {
        if (options.every_rows && ++seen % rows_per_call == 0)
            options.every_rows();
        if (have_header) {
            UserRow user = map_row(map, row, options.limits);
            if (!user.email.empty() || !user.name.empty() || !user.phone.empty() || !user.role.empty() ||
                !user.password.empty() || !user.password_hash.empty() || !user.valid_from.empty() ||
                !user.valid_until.empty() || !user.modules.empty())
                on_user(std::move(user));
        } else if (auto header = match_header(row)) {
            map = std::move(*header);
            have_header = true;
            on_header(map);
        } else if (row.number >= header_search_rows) {
            throw ImportError(
                "no header row in the first 10 rows: the sheet needs columns email/邮箱 and name/姓名");
        }
    });
    if (!have_header)
        throw ImportError("no header row found: the sheet needs columns email/邮箱 and name/姓名");
}

UserFile read_users(std::string_view data, std::optional<Format> format, const ReadOptions &options)
{
    UserFile file;
    stream_users(
        data, format, options, [&](const HeaderMap &header) { file.header = header; },
        [&](UserRow &&user) { file.rows.push_back(std::move(user)); });
    return file;
}

} // namespace clinres::import
