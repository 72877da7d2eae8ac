// SQL entry points of the users import and export (docs/import.md): import_users,
// import_template and export_users. The files are read and written by the pure C++ in
// src/clinres/users/import/; the rows are checked and written, all in one statement, by the SQL
// of the user management (clinres._check_user_rows, clinres._write_user_rows) through SPI.
#include "clinres/pg/datum.hpp"
#include "clinres/pg/spi.hpp"
#include "clinres/pg/srf.hpp"
#include "clinres/users/import/user_rows.hpp"
#include "clinres/users/import/writers.hpp"
#include "clinres/users/import_settings.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "utils/array.h"
}

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace im = clinres::import;

// A 22023 error for the caller.
[[noreturn]] void invalid(const std::string &message, const std::string &hint = {})
{
    throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, message, {}, hint);
}

// The files are UTF-8 and carry their text unconverted: the database must be UTF-8 too.
void require_utf8_database()
{
    if (GetDatabaseEncoding() != PG_UTF8)
        throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED, "import and export of users need a UTF8 database",
                        "The database encoding is " + std::string(GetDatabaseEncodingName()) + ".");
}

// Argument i as text, or nothing when it is NULL.
std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int i)
{
    if (PG_ARGISNULL(i))
        return std::nullopt;
    return std::string(pg::text_arg(fcinfo, i));
}

// A text argument lower-cased and trimmed, for keywords such as format and on_existing.
std::optional<std::string> keyword_arg(FunctionCallInfo fcinfo, int i)
{
    std::optional<std::string> v = text_arg(fcinfo, i);
    if (v) {
        std::size_t b = v->find_first_not_of(" \t"), e = v->find_last_not_of(" \t");
        *v = b == std::string::npos ? std::string() : v->substr(b, e - b + 1);
        std::transform(v->begin(), v->end(), v->begin(),
                       [](char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; });
    }
    return v;
}

// The format of a file to write: xlsx or csv.
im::Format output_format(FunctionCallInfo fcinfo, int i)
{
    std::optional<std::string> f = keyword_arg(fcinfo, i);
    if (f && *f == "xlsx")
        return im::Format::xlsx;
    if (f && *f == "csv")
        return im::Format::csv;
    invalid("invalid format \"" + im::excerpt(f ? *text_arg(fcinfo, i) : "NULL") + "\"",
            "format is xlsx or csv.");
}

// The format of a file to read: NULL (detected from the bytes), xlsx, csv (encoding detected),
// csv-utf8 or csv-gb18030; sets options.encoding.
std::optional<im::Format> input_format(FunctionCallInfo fcinfo, int i, im::ReadOptions &options)
{
    std::optional<std::string> f = keyword_arg(fcinfo, i);
    if (!f)
        return std::nullopt;
    if (*f == "xlsx")
        return im::Format::xlsx;
    if (*f == "csv")
        return im::Format::csv;
    if (*f == "csv-utf8" || *f == "csv-gb18030") {
        options.encoding = *f == "csv-utf8" ? im::Encoding::utf8 : im::Encoding::gb18030;
        return im::Format::csv;
    }
    invalid("invalid format \"" + im::excerpt(*text_arg(fcinfo, i)) + "\"",
            "format is xlsx, csv, csv-utf8, csv-gb18030 or NULL (detected from the bytes).");
}

// The bytes of a bytea argument (detoasted under the guard).
std::string_view bytea_arg(FunctionCallInfo fcinfo, int i)
{
    bytea *b = nullptr;
    pg::call([&] { b = PG_GETARG_BYTEA_PP(i); });
    return std::string_view(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

// A palloc'd bytea of the bytes.
Datum bytea_datum(const std::string &bytes)
{
    Datum d = 0;
    pg::call([&] {
        if (bytes.size() > MaxAllocSize - VARHDRSZ)
            ereport(ERROR,
                    (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("the file is too large for a bytea")));
        bytea *b = static_cast<bytea *>(palloc(VARHDRSZ + bytes.size()));
        SET_VARSIZE(b, VARHDRSZ + bytes.size());
        memcpy(VARDATA(b), bytes.data(), bytes.size());
        d = PointerGetDatum(b);
    });
    return d;
}

// The owner of clinres's catalog, as whom the SPI queries run (the functions are SECURITY DEFINER).
Oid catalog_owner()
{
    Oid rel = InvalidOid;
    pg::call([&] {
        rel = get_relname_relid("users", get_namespace_oid("clinres", false));
        if (!OidIsValid(rel))
            elog(ERROR, "clinres.users does not exist");
    });
    return pg::relation_owner(rel);
}

pg::Statement tenant_sql = {"SELECT clinres._import_tenant($1, $2)", 2, {UUIDOID, TEXTOID}};

// The library serves every version of the SQL (one clinres.so): until ALTER EXTENSION UPDATE has
// run, an older database lacks the decision import_users asks (0.3.0's clinres._authorize). Its
// version, and whether the decision is there.
pg::Statement sql_version_sql = {
    "SELECT e.extversion, pg_catalog.to_regprocedure("
    "    'clinres._authorize(uuid, text, uuid, uuid, text)') IS NOT NULL"
    "  FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'clinres'",
    0,
    {}};

// 55000 with a hint to update when the database's clinres SQL is older than the library's.
void require_current_sql(pg::OwnerSpi &spi)
{
    pg::Rows rows = spi.run(sql_version_sql, nullptr);
    if (rows.size() == 1 && !rows.at(0, 1).num)
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "clinres " + rows.at(0, 0).text +
                            " is installed in this database, but import_users needs the SQL of the "
                            "installed library's version",
                        {}, "Run ALTER EXTENSION clinres UPDATE.");
}

// The tenant of the call (argument i, or the context tenant when i < 0 or the argument is NULL)
// once the decision lets the context user do verb ("create", "export") there: 42501 otherwise,
// P0002 for an unknown tenant. The datum lives in the SPI connection's memory.
Datum checked_tenant(pg::OwnerSpi &spi, FunctionCallInfo fcinfo, int i, const char *verb)
{
    bool given = i >= 0 && !PG_ARGISNULL(i);
    Datum args[2] = {given ? PG_GETARG_DATUM(i) : Datum(0), pg::text_datum(verb)};
    pg::Rows rows = spi.run(tenant_sql, args, given ? "  " : "n ");
    clinres::Uuid tenant;
    std::memcpy(tenant.bytes, rows.at(0, 0).text.data(), 16);
    return pg::uuid_datum(tenant);
}

// Reads the users of a file; a malformed file or one over a limit is 22023.
im::UserFile read_file(std::string_view data, std::optional<im::Format> format,
                       const im::ReadOptions &options)
{
    try {
        return im::read_users(data, format, options);
    } catch (const im::LimitExceeded &e) {
        const char *setting = users::limit_setting(e.limit());
        invalid(std::string("import file exceeds the limit ") + setting + " (" +
                    std::to_string(users::limit_value(options.limits, e.limit())) + ")",
                std::string("Split the file, or ask a superuser to raise ") + setting + ".");
    } catch (const im::ImportError &e) {
        invalid(std::string("invalid import file: ") + e.what());
    }
}

// A text[] of value(i) for every row, an empty value as NULL, built in cxt (the element texts
// in a scratch context, freed once the array holds them); a value that is not UTF-8 text is 22023.
template <typename Value> Datum text_array(const std::vector<im::UserRow> &rows, MemoryContext cxt, Value value)
{
    Datum result = 0;
    pg::call([&] {
        MemoryContext scratch = AllocSetContextCreate(cxt, "clinres import column", ALLOCSET_DEFAULT_SIZES);
        MemoryContext old = MemoryContextSwitchTo(scratch);
        int n = static_cast<int>(rows.size());
        Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n + 1)));
        bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * (n + 1)));
        for (int k = 0; k < n; ++k) {
            const std::string &s = value(std::size_t(k));
            nulls[k] = s.empty();
            elems[k] = 0;
            if (s.empty())
                continue;
            if (!pg_verify_mbstr(PG_UTF8, s.data(), static_cast<int>(s.size()), true))
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                errmsg("invalid import file: row %u has a cell that is not UTF-8 text",
                                       rows[k].row_no)));
            elems[k] = PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
        }
        int dims[1] = {n}, lbs[1] = {1};
        MemoryContextSwitchTo(cxt);
        result =
            PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
        MemoryContextSwitchTo(old);
        MemoryContextDelete(scratch);
    });
    return result;
}

// The rows as the parallel arrays ($3..$8) of clinres._check_user_rows and _write_user_rows, and
// their sheet row numbers ($9).
void row_arrays(const std::vector<im::UserRow> &rows, const std::vector<std::string> &modules, MemoryContext cxt,
                Datum *args)
{
    std::size_t n = rows.size();
    args[0] = text_array(rows, cxt, [&](std::size_t i) -> const std::string & { return rows[i].email; });
    args[1] = text_array(rows, cxt, [&](std::size_t i) -> const std::string & { return rows[i].name; });
    args[2] = text_array(rows, cxt, [&](std::size_t i) -> const std::string & { return rows[i].phone; });
    args[3] = text_array(rows, cxt, [&](std::size_t i) -> const std::string & { return rows[i].role; });
    args[4] = text_array(rows, cxt, [&](std::size_t i) -> const std::string & { return modules[i]; });
    args[5] = text_array(rows, cxt, [&](std::size_t i) -> const std::string & { return rows[i].password; });
    pg::call([&] {
        MemoryContext old = MemoryContextSwitchTo(cxt);
        Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n + 1)));
        for (std::size_t i = 0; i < n; ++i)
            elems[i] = Int32GetDatum(int32(rows[i].row_no));
        args[6] = PointerGetDatum(construct_array(elems, int(n), INT4OID, sizeof(int32), true, TYPALIGN_INT));
        MemoryContextSwitchTo(old);
    });
}

// Both give per row, in order: ord, errcode, message, action, user_id, email, name, and the
// number of rows in error (the same on every row). Generic plans: a custom one would copy the
// row arrays into itself as constants.
pg::Statement check_sql = {
    "SELECT c.ord, c.errcode, c.message, c.action, c.user_id, c.email, c.name, pg_catalog.count(c.errcode) OVER ()"
    "  FROM clinres._check_user_rows($1, $2, $3, $4, $5, $6, $7, $8, $9) c ORDER BY c.ord",
    9,
    {UUIDOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
     INT4ARRAYOID},
    nullptr,
    CURSOR_OPT_GENERIC_PLAN};
pg::Statement write_sql = {
    "SELECT w.ord, w.errcode, w.message, w.action, w.user_id, w.email, w.name, pg_catalog.count(w.errcode) OVER ()"
    "  FROM clinres._write_user_rows($1, $2, $3, $4, $5, $6, $7, $8, $9) w ORDER BY w.ord",
    9,
    {UUIDOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
     INT4ARRAYOID},
    nullptr,
    CURSOR_OPT_GENERIC_PLAN};

// Report rows fetched from the database at a time.
constexpr long report_batch = 1000;

// What a row that is fine would do or did, in words, after "row N: ".
std::string outcome(const std::string &action, bool written)
{
    if (action == "created")
        return written ? "created" : "would be created";
    if (action == "added")
        return written ? "existing user added to the tenant" : "existing user would be added to the tenant";
    if (action == "updated")
        return written ? "member updated" : "member would be updated";
    return written ? "email already in use; skipped" : "email already in use; would be skipped";
}

// The text datum of a cell, or a NULL for an empty or NULL cell.
void text_cell(const pg::Cell &cell, Datum &value, bool &null)
{
    null = cell.null || cell.text.empty();
    value = null ? Datum(0) : PointerGetDatum(cstring_to_text_with_len(cell.text.data(), int(cell.text.size())));
}

// Appends one batch of checked (or written) rows to the report; returns the rows in error in all.
std::int64_t put_report(pg::MaterializedRows &report, const pg::Rows &batch,
                        const std::vector<std::uint32_t> &row_nos, bool dry_run)
{
    std::int64_t errors = 0;
    for (std::size_t r = 0; r < batch.size(); ++r) {
        std::uint32_t row_no = row_nos.at(std::size_t(batch.at(r, 0).num) - 1);
        errors = batch.at(r, 7).num;
        bool error = !batch.at(r, 1).null;
        std::string action = error ? "error" : batch.at(r, 3).text;
        std::string message = "row " + std::to_string(row_no) + ": " +
                              (error ? batch.at(r, 2).text
                                     : outcome(action, errors == 0 && !dry_run) +
                                           (errors ? " (nothing is imported while other rows have errors)" : ""));
        report.put([&](Datum *values, bool *nulls) {
            values[0] = Int32GetDatum(int32(row_no));
            nulls[0] = false;
            text_cell(batch.at(r, 5), values[1], nulls[1]);
            text_cell(batch.at(r, 6), values[2], nulls[2]);
            values[3] = PointerGetDatum(cstring_to_text_with_len(action.data(), int(action.size())));
            nulls[3] = false;
            nulls[4] = batch.at(r, 4).null;
            values[4] = 0;
            if (!nulls[4]) {
                pg_uuid_t *u = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
                memcpy(u->data, batch.at(r, 4).text.data(), UUID_LEN);
                values[4] = UUIDPGetDatum(u);
            }
            values[5] = PointerGetDatum(cstring_to_text_with_len(message.data(), int(message.size())));
            nulls[5] = false;
        });
    }
    return errors;
}

// The notice naming the header cells the import does not read.
void notice_ignored(const im::HeaderMap &header)
{
    if (header.ignored.empty())
        return;
    std::string list;
    for (std::size_t i = 0; i < header.ignored.size() && i < 10; ++i)
        list += (i ? ", " : "") + im::excerpt(header.ignored[i]);
    if (header.ignored.size() > 10)
        list += ", ...";
    pg::call([&] {
        ereport(NOTICE, (errmsg("columns ignored (not email, name, phone, role, modules or password): %s",
                                list.c_str())));
    });
}

// import_users(data, tenant_id, format, dry_run, on_existing, sheet) -> the report
Datum import_users(FunctionCallInfo fcinfo)
{
    require_utf8_database();
    if (PG_ARGISNULL(0))
        invalid("data must not be null");
    if (PG_ARGISNULL(3))
        invalid("dry_run must not be null");
    bool dry_run = PG_GETARG_BOOL(3);
    std::optional<std::string> on_existing = keyword_arg(fcinfo, 4);
    if (!on_existing || (*on_existing != "error" && *on_existing != "skip" && *on_existing != "update"))
        invalid("invalid on_existing \"" + im::excerpt(on_existing ? *text_arg(fcinfo, 4) : "NULL") + "\"",
                "on_existing is error, skip or update.");
    im::ReadOptions options;
    options.limits = users::import_limits();
    options.every_rows = [] { pg::call([] { CHECK_FOR_INTERRUPTS(); }); }; // a cancel stops a long file
    std::optional<im::Format> format = input_format(fcinfo, 2, options);
    if (std::optional<std::string> sheet = text_arg(fcinfo, 5))
        options.sheet = *sheet;
    std::string_view data = bytea_arg(fcinfo, 0);

    pg::MaterializedRows report(fcinfo);
    pg::OwnerSpi spi(catalog_owner(), false);
    require_current_sql(spi);
    Datum tenant = checked_tenant(spi, fcinfo, 1, "create");
    std::vector<std::uint32_t> row_nos;
    Datum args[9] = {tenant, pg::text_datum(*on_existing)};
    {
        // The rows as read are freed once they are arrays in the database's memory.
        im::UserFile file = read_file(data, format, options);
        notice_ignored(file.header);
        std::vector<std::string> modules(file.rows.size());
        for (std::size_t i = 0; i < file.rows.size(); ++i) {
            row_nos.push_back(file.rows[i].row_no);
            for (const std::string &m : file.rows[i].modules)
                modules[i] += (modules[i].empty() ? "" : "\x1f") + m;
        }
        if (!file.rows.empty())
            row_arrays(file.rows, modules, CurrentMemoryContext, args + 2);
    }
    if (!row_nos.empty()) {
        std::int64_t errors = 0;
        spi.each(dry_run ? check_sql : write_sql, args, nullptr, !dry_run, report_batch,
                 [&](const pg::Rows &batch) { errors = put_report(report, batch, row_nos, dry_run); });
        if (errors)
            pg::call([&] {
                ereport(NOTICE, (errmsg("nothing imported: %lld of %zu rows have errors",
                                        static_cast<long long>(errors), row_nos.size())));
            });
    }
    spi.finish();
    return Datum(0);
}

pg::Statement options_sql = {"SELECT kind, code, name FROM clinres._import_options($1)", 1, {UUIDOID}};

// import_template(format) -> bytea
Datum import_template(FunctionCallInfo fcinfo)
{
    require_utf8_database();
    im::Format format = output_format(fcinfo, 0);
    std::vector<im::CodeName> roles, modules;
    pg::OwnerSpi spi(catalog_owner(), false);
    Datum tenant = checked_tenant(spi, fcinfo, -1, "create");
    pg::Rows rows = spi.run(options_sql, &tenant);
    spi.finish();
    for (std::size_t r = 0; r < rows.size(); ++r)
        (rows.at(r, 0).text == "role" ? roles : modules).push_back({rows.at(r, 1).text, rows.at(r, 2).text});
    return bytea_datum(im::users_template(format, roles, modules));
}

pg::Statement export_sql = {
    "SELECT email, name, phone, role_code, modules, status, membership_status, created_at,"
    " last_login_at FROM clinres._export_rows($1)",
    1,
    {UUIDOID}};

// export_users(tenant_id, format) -> bytea
Datum export_users(FunctionCallInfo fcinfo)
{
    require_utf8_database();
    im::Format format = output_format(fcinfo, 1);
    pg::OwnerSpi spi(catalog_owner(), false);
    Datum tenant = checked_tenant(spi, fcinfo, 0, "export");
    pg::Rows rows = spi.run(export_sql, &tenant);
    spi.finish();
    im::SheetData sheet{"users 用户", im::user_headers(), {}};
    for (const char *h :
         {"status/状态", "membership status/成员状态", "created at/创建时间", "last login/最近登录"})
        sheet.header.emplace_back(h);
    sheet.rows.reserve(rows.size());
    for (std::size_t r = 0; r < rows.size(); ++r) {
        auto cell = [&](int c) { return rows.at(r, c).null ? std::string() : rows.at(r, c).text; };
        sheet.rows.push_back(
            {cell(0), cell(1), cell(2), cell(3), cell(4), "", cell(5), cell(6), cell(7), cell(8)});
    }
    return bytea_datum(format == im::Format::xlsx ? im::write_xlsx({sheet}) : im::write_csv(sheet));
}

} // namespace

CLINRES_FUNCTION(clinres_import_users, import_users)
CLINRES_FUNCTION(clinres_import_template, import_template)
CLINRES_FUNCTION(clinres_export_users, export_users)
