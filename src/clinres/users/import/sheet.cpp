#include "clinres/users/import/sheet.hpp"

namespace clinres::import {

const std::string *Row::find(std::uint32_t column) const
{
    for (const Cell &cell : cells)
        if (cell.column == column)
            return &cell.value;
    return nullptr;
}

std::string column_name(std::uint32_t column)
{
    std::string name;
    std::uint64_t n = std::uint64_t(column) + 1;
    while (n > 0) {
        name.insert(name.begin(), char('A' + (n - 1) % 26));
        n = (n - 1) / 26;
    }
    return name;
}

bool parse_cell_ref(std::string_view ref, std::uint32_t &column, std::uint32_t &row)
{
    std::size_t i = 0;
    std::uint64_t col = 0, r = 0;
    while (i < ref.size() && ref[i] >= 'A' && ref[i] <= 'Z' && i < 3)
        col = col * 26 + std::uint64_t(ref[i++] - 'A' + 1);
    if (col == 0 || i == ref.size() || i > 3)
        return false;
    std::size_t digits = 0;
    for (; i < ref.size(); ++i, ++digits) {
        if (ref[i] < '0' || ref[i] > '9' || digits >= 7)
            return false;
        r = r * 10 + std::uint64_t(ref[i] - '0');
    }
    if (r == 0)
        return false;
    column = std::uint32_t(col - 1);
    row = std::uint32_t(r);
    return true;
}

} // namespace clinres::import
