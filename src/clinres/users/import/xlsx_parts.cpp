#include "clinres/users/import/xlsx_parts.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "clinres/users/import/cell_text.hpp"

namespace clinres::import::xlsx {

void parse_part(ZipArchive &zip, const std::string &path, XmlHandler &handler, const Limits &limits)
{
    XmlStream xml(path, handler, limits);
    zip.read(path, [&](std::string_view chunk) { xml.feed(chunk); });
    xml.finish();
}

namespace {

// The package path a relationship target names, relative to the folder of the part that holds it.
std::string resolve(const std::string &dir, std::string_view target)
{
    std::string path;
    if (!target.empty() && target[0] == '/') {
        target.remove_prefix(1);
    } else {
        path = dir;
    }
    while (!target.empty()) {
        std::size_t slash = target.find('/');
        std::string_view seg = target.substr(0, slash);
        target = slash == std::string_view::npos ? std::string_view() : target.substr(slash + 1);
        if (seg == "..") {
            std::size_t cut = path.empty() ? std::string::npos : path.rfind('/', path.size() - 2);
            path = cut == std::string::npos ? std::string() : path.substr(0, cut + 1);
        } else if (!seg.empty() && seg != ".") {
            path.append(seg).append(slash == std::string_view::npos ? "" : "/");
        }
    }
    return path;
}

// The folder of a package path, with its trailing slash ("xl/workbook.xml" -> "xl/").
std::string folder(const std::string &path)
{
    return path.substr(0, path.rfind('/') + 1);
}

// The relationships file of a part ("xl/workbook.xml" -> "xl/_rels/workbook.xml.rels").
std::string rels_of(const std::string &path)
{
    return folder(path) + "_rels/" + path.substr(path.rfind('/') + 1) + ".rels";
}

// True if a relationship type URI ends with /kind.
bool has_type(const char *type, std::string_view kind)
{
    std::string_view t = type ? type : "";
    return t.size() > kind.size() && t.substr(t.size() - kind.size()) == kind &&
           t[t.size() - kind.size() - 1] == '/';
}

// Collects the internal relationships of one part.
struct RelsHandler : XmlHandler {
    struct Rel {
        std::string id, type, target;
    };
    std::vector<Rel> rels;
    void start(std::string_view name, const char **attrs) override
    {
        const char *mode = xml_attr(attrs, "TargetMode");
        if (name != "Relationship" || (mode && std::string_view(mode) == "External"))
            return;
        const char *id = xml_attr(attrs, "Id");
        const char *type = xml_attr(attrs, "Type");
        const char *target = xml_attr(attrs, "Target");
        if (id && type && target)
            rels.push_back({id, type, target});
    }
    void end(std::string_view) override {}
    void text(std::string_view) override {}
};

// Collects the sheet list and date system of workbook.xml.
struct WorkbookHandler : XmlHandler {
    Workbook &book;
    explicit WorkbookHandler(Workbook &b) : book(b) {}
    void start(std::string_view name, const char **attrs) override
    {
        if (name == "sheet") {
            const char *sheet_name = xml_attr(attrs, "name");
            const char *id = xml_attr(attrs, "id");
            const char *state = xml_attr(attrs, "state");
            if (!sheet_name || !id)
                throw ImportError("the .xlsx file is corrupt: a sheet in the workbook has no name or id");
            book.sheets.push_back({sheet_name, id, state && std::string_view(state) != "visible"});
        } else if (name == "workbookPr") {
            const char *d1904 = xml_attr(attrs, "date1904");
            book.date1904 = d1904 && (std::string_view(d1904) == "1" || std::string_view(d1904) == "true");
        }
    }
    void end(std::string_view) override {}
    void text(std::string_view) override {}
};

// Collects shared strings: the text of <t> in each <si>, leaving out phonetic runs (<rPh>).
struct SharedStringsHandler : XmlHandler {
    SharedStrings &table;
    std::size_t max_cell;
    TextBudget &budget;
    bool in_t = false;
    int in_rph = 0;
    std::string current;
    SharedStringsHandler(SharedStrings &t, std::size_t max, TextBudget &b)
        : table(t), max_cell(max), budget(b)
    {
    }
    void start(std::string_view name, const char **) override
    {
        if (name == "si")
            current.clear();
        else if (name == "rPh")
            ++in_rph;
        else if (name == "t")
            in_t = in_rph == 0;
    }
    void end(std::string_view name) override
    {
        if (name == "t") {
            in_t = false;
        } else if (name == "rPh") {
            --in_rph;
        } else if (name == "si") {
            std::string decoded = decode_xstring(current);
            budget.take(decoded.size() + sizeof(std::uint32_t));
            table.add(decoded);
        }
    }
    void text(std::string_view data) override
    {
        if (!in_t)
            return;
        if (current.size() + data.size() > max_cell)
            throw LimitExceeded(Limit::cell_bytes, max_cell);
        current.append(data);
    }
};

// Collects custom number formats and the number format of each cell style (cellXfs/xf).
struct StylesHandler : XmlHandler {
    std::map<unsigned, std::string> codes;
    std::vector<unsigned> xf_formats;
    bool in_cell_xfs = false;
    void start(std::string_view name, const char **attrs) override
    {
        if (name == "numFmt") {
            const char *id = xml_attr(attrs, "numFmtId");
            const char *code = xml_attr(attrs, "formatCode");
            if (id && code)
                codes[unsigned(std::strtoul(id, nullptr, 10))] = code;
        } else if (name == "cellXfs") {
            in_cell_xfs = true;
        } else if (name == "xf" && in_cell_xfs) {
            const char *id = xml_attr(attrs, "numFmtId");
            xf_formats.push_back(id ? unsigned(std::strtoul(id, nullptr, 10)) : 0);
        }
    }
    void end(std::string_view name) override
    {
        if (name == "cellXfs")
            in_cell_xfs = false;
    }
    void text(std::string_view) override {}
};

} // namespace

Workbook read_workbook(ZipArchive &zip, const Limits &limits)
{
    std::string workbook_path = "xl/workbook.xml";
    if (zip.has("_rels/.rels")) {
        RelsHandler root;
        parse_part(zip, "_rels/.rels", root, limits);
        for (const auto &rel : root.rels)
            if (has_type(rel.type.c_str(), "officeDocument"))
                workbook_path = resolve("", rel.target);
    }
    if (!zip.has(workbook_path))
        throw ImportError("the file is a zip archive but not an .xlsx workbook (no " + workbook_path +
                          "), or it is truncated");
    Workbook book;
    WorkbookHandler wb(book);
    parse_part(zip, workbook_path, wb, limits);
    std::string rels_path = rels_of(workbook_path);
    if (!zip.has(rels_path))
        throw ImportError("the .xlsx file is corrupt: it has no " + rels_path);
    RelsHandler rels;
    parse_part(zip, rels_path, rels, limits);
    std::string dir = folder(workbook_path);
    for (const auto &rel : rels.rels) {
        std::string path = resolve(dir, rel.target);
        book.targets[rel.id] = path;
        if (has_type(rel.type.c_str(), "sharedStrings"))
            book.shared_strings = path;
        if (has_type(rel.type.c_str(), "styles"))
            book.styles = path;
    }
    return book;
}

void SharedStrings::add(std::string_view s)
{
    std::size_t pos = offsets_.back();
    if (s.size() > UINT32_MAX - pos)
        throw LimitExceeded(Limit::uncompressed_bytes, UINT32_MAX);
    while (!s.empty()) {
        std::size_t at = pos % kBlock;
        if (at == 0 && pos / kBlock == blocks_.size())
            blocks_.emplace_back(new char[kBlock]);
        std::size_t n = std::min(s.size(), kBlock - at);
        std::memcpy(blocks_[pos / kBlock].get() + at, s.data(), n);
        s.remove_prefix(n);
        pos += n;
    }
    offsets_.push_back(std::uint32_t(pos));
}

std::string SharedStrings::at(std::size_t i) const
{
    std::size_t pos = offsets_[i], end = offsets_[i + 1];
    std::string out;
    out.reserve(end - pos);
    while (pos < end) {
        std::size_t at = pos % kBlock, n = std::min(end - pos, kBlock - at);
        out.append(blocks_[pos / kBlock].get() + at, n);
        pos += n;
    }
    return out;
}

SharedStrings read_shared_strings(ZipArchive &zip, const std::string &path, const Limits &limits,
                                  TextBudget &budget)
{
    SharedStrings table;
    SharedStringsHandler handler(table, limits.cell_bytes, budget);
    parse_part(zip, path, handler, limits);
    return table;
}

std::vector<bool> read_date_styles(ZipArchive &zip, const std::string &path, const Limits &limits)
{
    StylesHandler handler;
    parse_part(zip, path, handler, limits);
    std::vector<bool> dates;
    dates.reserve(handler.xf_formats.size());
    for (unsigned id : handler.xf_formats) {
        auto code = handler.codes.find(id);
        dates.push_back(is_date_format(id, code == handler.codes.end() ? std::string_view() : code->second));
    }
    return dates;
}

} // namespace clinres::import::xlsx
