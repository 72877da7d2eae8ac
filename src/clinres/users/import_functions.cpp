// SQL entry points of the users import and export (docs/import.md): import_users,
// import_template and export_users. The files are read and written by the pure C++ in
// src/clinres/users/import/; import_users streams the rows into temporary tables in batches, and
// the SQL of the user management checks and writes them batch by batch (clinres._import_check,
// clinres._import_write over clinres._check_user_rows and clinres._write_checked_rows) through SPI.
#include "clinres/pg/datum.hpp"
#include "clinres/pg/spi.hpp"
#include "clinres/pg/srf.hpp"
#include "clinres/users/import/user_rows.hpp"
#include "clinres/users/import/writers.hpp"
#include "clinres/users/import_settings.hpp"
#include "clinres/users/sheet_export.hpp"

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

pg::Statement tenant_sql = {"SELECT clinres._import_tenant($1, $2)", 2, {UUIDOID, TEXTOID}};

// The library serves every version of the SQL (one clinres.so): until ALTER EXTENSION UPDATE has
// run, an older database lacks the staging import_users uses (0.3.0's clinres._import_stage, beside
// the decision, clinres._authorize), or has 0.3.0's, without password hashes and the report's field
// (0.4.0's clinres._password_hash_problem). Its version, and whether each is there.
pg::Statement sql_version_sql = {
    "SELECT e.extversion, pg_catalog.to_regprocedure('clinres._import_stage()') IS NOT NULL,"
    "       pg_catalog.to_regprocedure('clinres._password_hash_problem(text, boolean)') IS NOT NULL"
    "  FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'clinres'",
    0,
    {}};

// The database's clinres SQL as import_users needs it: 55000 with a hint to update when it is older
// than 0.3.0's staging; otherwise its version and whether it has 0.4.0's hashes and report field.
struct ImportSql {
    std::string version;
    bool hashes = true;
};

ImportSql require_current_sql(pg::OwnerSpi &spi)
{
    pg::Rows rows = spi.run(sql_version_sql, nullptr);
    if (rows.size() != 1)
        return {};
    if (!rows.at(0, 1).num)
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "clinres " + rows.at(0, 0).text +
                            " is installed in this database, but import_users needs the SQL of the "
                            "installed library's version",
                        {}, "Run ALTER EXTENSION clinres UPDATE.");
    return {rows.at(0, 0).text, rows.at(0, 2).num != 0};
}

// The tenant of the call (argument i, or the context tenant when i < 0 or the argument is NULL)
// once the decision lets the context user do verb ("create", "export") there: 42501 otherwise,
// P0002 for an unknown tenant.
clinres::Uuid checked_tenant_id(pg::OwnerSpi &spi, FunctionCallInfo fcinfo, int i, const char *verb)
{
    bool given = i >= 0 && !PG_ARGISNULL(i);
    Datum args[2] = {given ? PG_GETARG_DATUM(i) : Datum(0), pg::text_datum(verb)};
    pg::Rows rows = spi.run(tenant_sql, args, given ? "  " : "n ");
    clinres::Uuid tenant;
    std::memcpy(tenant.bytes, rows.at(0, 0).text.data(), 16);
    return tenant;
}

// The same as a datum, in the SPI connection's memory.
Datum checked_tenant(pg::OwnerSpi &spi, FunctionCallInfo fcinfo, int i, const char *verb)
{
    return pg::uuid_datum(checked_tenant_id(spi, fcinfo, i, verb));
}

// A 22023 for a file over a limit: the setting, its value and where, with a hint to split the file.
[[noreturn]] void over_limit(const im::LimitExceeded &e, const im::Limits &limits)
{
    const char *setting = users::limit_setting(e.limit());
    invalid(std::string("import file exceeds the limit ") + setting + " (" +
                std::to_string(users::limit_value(limits, e.limit())) + ")" +
                (e.where().empty() ? "" : " in " + e.where()),
            std::string("Split the file, or ask a superuser to raise ") + setting + ".");
}

// Rows of a file staged by one statement at most, and the text they may hold: the memory of a
// batch (here, then in the row check) does not depend on the size of the file.
constexpr std::size_t batch_rows = 1000;
constexpr std::size_t batch_text_bytes = 1u << 20;

// Creates (or drops) the staging tables as the function's owner. Not through pg::OwnerSpi: a
// security-restricted operation may not create temporary tables.
void staging(bool create)
{
    pg::call([create] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "clinres could not connect to SPI");
        if (SPI_execute(create ? "SELECT clinres._import_stage()"
                               : "DROP TABLE pg_temp.clinres_import_rows, pg_temp.clinres_import_checks",
                        false, 0) != (create ? SPI_OK_SELECT : SPI_OK_UTILITY))
            elog(ERROR, "clinres could not %s the import staging tables", create ? "create" : "drop");
        SPI_finish();
    });
}

pg::Statement staged_sql = {
    "WITH staged AS (INSERT INTO pg_temp.clinres_import_rows (ord, batch, row_no, email, name, phone, role, "
    "modules, password, password_hash, valid_from, valid_until)"
    " SELECT $1 OPERATOR(pg_catalog.+) x.i::int, $2, x.r, x.e, x.n, x.p, x.ro, x.m, x.pw, x.ph, x.vf, x.vu"
    "   FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), "
    "pg_catalog.unnest($6),"
    "                   pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9), "
    "pg_catalog.unnest($10), pg_catalog.unnest($11), pg_catalog.unnest($12))"
    "        WITH ORDINALITY AS x(r, e, n, p, ro, m, pw, ph, vf, vu, i) RETURNING 1)"
    " SELECT pg_catalog.count(*) FROM staged",
    12,
    {INT4OID, INT4OID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
     TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID}};
// The same for 0.3.0's SQL (no password_hash column), until ALTER EXTENSION UPDATE.
pg::Statement staged_sql_0_3 = {
    "WITH staged AS (INSERT INTO pg_temp.clinres_import_rows (ord, batch, row_no, email, name, phone, role, "
    "modules, password)"
    " SELECT $1 OPERATOR(pg_catalog.+) x.i::int, $2, x.r, x.e, x.n, x.p, x.ro, x.m, x.pw"
    "   FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), "
    "pg_catalog.unnest($6),"
    "                   pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9))"
    "        WITH ORDINALITY AS x(r, e, n, p, ro, m, pw, i) RETURNING 1)"
    " SELECT pg_catalog.count(*) FROM staged",
    9,
    {INT4OID, INT4OID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
     TEXTARRAYOID}};
pg::Statement check_staged_sql = {"SELECT clinres._import_check($1, $2)", 2, {UUIDOID, TEXTOID}};
pg::Statement write_staged_sql = {"SELECT clinres._import_write($1)", 1, {UUIDOID}};
pg::Statement report_sql = {
    "SELECT k.row_no, (k.c).errcode, (k.c).message, (k.c).action, (k.c).user_id, (k.c).email, (k.c).name,"
    " (k.c).field FROM pg_temp.clinres_import_checks k ORDER BY k.ord",
    0,
    {}};
pg::Statement report_sql_0_3 = {
    "SELECT k.row_no, (k.c).errcode, (k.c).message, (k.c).action, (k.c).user_id, (k.c).email, (k.c).name,"
    " NULL::text FROM pg_temp.clinres_import_checks k ORDER BY k.ord",
    0,
    {}};

// A text[] of value(row) for the rows, an empty value as NULL, in the current memory context; a
// value that is not UTF-8 text is 22023.
template <typename Value> Datum text_array(const std::vector<im::UserRow> &rows, Value value)
{
    Datum result = 0;
    pg::call([&] {
        int n = static_cast<int>(rows.size());
        Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n + 1)));
        bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * (n + 1)));
        for (int k = 0; k < n; ++k) {
            const std::string &s = value(rows[k]);
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
        result =
            PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
    });
    return result;
}

// The rows of a file on their way into the staging table, one batch at a time, and what the whole
// file held so far.
class Stager {
public:
    Stager(pg::OwnerSpi &spi, const ImportSql &sql) : spi_(spi), sql_(sql) {}

    // Adds a row read; the batch is staged once full.
    void add(im::UserRow &&row)
    {
        if (!row.password_hash.empty() && !sql_.hashes)
            throw pg::Error(
                ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                "clinres " + sql_.version +
                    " is installed in this database: its import_users does not read password_hash",
                {}, "Run ALTER EXTENSION clinres UPDATE.");
        if ((!row.valid_from.empty() || !row.valid_until.empty()) && !sql_.hashes)
            throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                            "clinres " + sql_.version +
                                " is installed in this database: its import_users does not read valid_from "
                                "or valid_until",
                            {}, "Run ALTER EXTENSION clinres UPDATE.");
        if (!row.password.empty())
            ++password_rows_;
        bytes_ += row.email.size() + row.name.size() + row.phone.size() + row.role.size() +
                  row.password.size() + row.password_hash.size() + row.valid_from.size() +
                  row.valid_until.size();
        for (const std::string &m : row.modules)
            bytes_ += sizeof m + m.size(); // as held here
        rows_.push_back(std::move(row));
        if (rows_.size() >= batch_rows || bytes_ >= batch_text_bytes)
            flush();
    }

    // Stages the rows of the current batch (in a memory context freed once they are in the table).
    void flush()
    {
        if (rows_.empty())
            return;
        MemoryContext cxt = nullptr, old = nullptr;
        pg::call([&] {
            cxt = AllocSetContextCreate(CurrentMemoryContext, "clinres import batch", ALLOCSET_DEFAULT_SIZES);
            old = MemoryContextSwitchTo(cxt);
        });
        struct Restore {
            MemoryContext cxt, old;
            ~Restore()
            {
                MemoryContextSwitchTo(old);
                MemoryContextDelete(cxt);
            }
        } restore{cxt, old};
        Datum args[12] = {Int32GetDatum(int32(staged_)), Int32GetDatum(int32(++batches_))};
        pg::call([&] {
            Datum *nos = static_cast<Datum *>(palloc(sizeof(Datum) * (rows_.size() + 1)));
            for (std::size_t i = 0; i < rows_.size(); ++i)
                nos[i] = Int32GetDatum(int32(rows_[i].row_no));
            args[2] = PointerGetDatum(
                construct_array(nos, int(rows_.size()), INT4OID, sizeof(int32), true, TYPALIGN_INT));
        });
        args[3] = text_array(rows_, [](const im::UserRow &r) -> const std::string & { return r.email; });
        args[4] = text_array(rows_, [](const im::UserRow &r) -> const std::string & { return r.name; });
        args[5] = text_array(rows_, [](const im::UserRow &r) -> const std::string & { return r.phone; });
        args[6] = text_array(rows_, [](const im::UserRow &r) -> const std::string & { return r.role; });
        std::string modules;
        args[7] = text_array(rows_, [&](const im::UserRow &r) -> const std::string & {
            modules.clear();
            for (const std::string &m : r.modules)
                modules += (modules.empty() ? "" : "\x1f") + m;
            return modules;
        });
        args[8] = text_array(rows_, [](const im::UserRow &r) -> const std::string & { return r.password; });
        args[9] =
            text_array(rows_, [](const im::UserRow &r) -> const std::string & { return r.password_hash; });
        args[10] =
            text_array(rows_, [](const im::UserRow &r) -> const std::string & { return r.valid_from; });
        args[11] =
            text_array(rows_, [](const im::UserRow &r) -> const std::string & { return r.valid_until; });
        spi_.run(sql_.hashes ? staged_sql : staged_sql_0_3, args, nullptr, true);
        staged_ += rows_.size();
        rows_.clear();
        bytes_ = 0;
    }

    std::size_t rows() const { return staged_; }                 // rows staged
    std::size_t password_rows() const { return password_rows_; } // rows read with a password

private:
    pg::OwnerSpi &spi_;
    const ImportSql &sql_;
    std::vector<im::UserRow> rows_;
    std::size_t bytes_ = 0, staged_ = 0, password_rows_ = 0;
    int batches_ = 0;
};

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
        ereport(
            NOTICE,
            (errmsg(
                "columns ignored (not email, name, phone, role, modules, password, valid_from, valid_until "
                "or password_hash): %s",
                list.c_str())));
    });
}

// Reads the users of a file into the staging table; a malformed file or one over a limit is 22023.
void stage_file(Stager &stager, std::string_view data, std::optional<im::Format> format,
                const im::ReadOptions &options)
{
    try {
        im::stream_users(
            data, format, options, [](const im::HeaderMap &header) { notice_ignored(header); },
            [&](im::UserRow &&row) { stager.add(std::move(row)); });
        stager.flush();
    } catch (const im::LimitExceeded &e) {
        over_limit(e, options.limits);
    } catch (const im::ImportError &e) {
        invalid(std::string("invalid import file: ") + e.what());
    }
}

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
    value =
        null ? Datum(0) : PointerGetDatum(cstring_to_text_with_len(cell.text.data(), int(cell.text.size())));
}

// Appends one batch of checked (or written) rows to the report, errors being the rows in error in all;
// with_field: the result has 0.4.0's last column, field.
void put_report(pg::MaterializedRows &report, const pg::Rows &batch, std::int64_t errors, bool dry_run,
                bool with_field)
{
    for (std::size_t r = 0; r < batch.size(); ++r) {
        std::int64_t row_no = batch.at(r, 0).num;
        bool error = !batch.at(r, 1).null;
        std::string action = error ? "error" : batch.at(r, 3).text;
        // A row that is fine may carry a note: the fields of an added row that were not applied.
        const pg::Cell &note = batch.at(r, 2);
        std::string message =
            "row " + std::to_string(row_no) + ": " +
            (error ? note.text
                   : outcome(action, errors == 0 && !dry_run) + (note.null ? "" : "; " + note.text) +
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
            if (with_field)
                text_cell(batch.at(r, 7), values[6], nulls[6]);
        });
    }
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
    clinres::Uuid tenant_id;
    ImportSql sql;
    {
        pg::OwnerSpi spi(users::catalog_owner(), false);
        sql = require_current_sql(spi);
        tenant_id = checked_tenant_id(spi, fcinfo, 1, "create");
        spi.finish();
    }
    staging(true);
    {
        pg::OwnerSpi spi(users::catalog_owner(), false);
        Datum tenant = pg::uuid_datum(tenant_id);
        Stager stager(spi, sql);
        stage_file(stager, data, format, options);
        // Before any row is checked, so before any password is hashed.
        std::size_t max_password_rows = std::size_t(users::import_max_password_rows());
        if (stager.password_rows() > max_password_rows)
            invalid(
                "import file exceeds the limit clinres.import_max_password_rows (" +
                    std::to_string(max_password_rows) + "): " + std::to_string(stager.password_rows()) +
                    (stager.password_rows() == 1 ? " row has" : " rows have") + " a password",
                "Each password costs one bcrypt hash. Import the rest without passwords (the users then set "
                "theirs through reset_password), split the file, or ask a superuser to raise "
                "clinres.import_max_password_rows.");
        if (stager.rows() > 0) {
            Datum args[2] = {tenant, pg::text_datum(*on_existing)};
            std::int64_t errors = spi.run(check_staged_sql, args, nullptr, true).at(0, 0).num;
            if (errors == 0 && !dry_run)
                spi.run(write_staged_sql, &tenant, nullptr, true);
            spi.each(sql.hashes ? report_sql : report_sql_0_3, nullptr, nullptr, true, report_batch,
                     [&](const pg::Rows &batch) { put_report(report, batch, errors, dry_run, sql.hashes); });
            if (errors)
                pg::call([&] {
                    ereport(NOTICE, (errmsg("nothing imported: %lld of %zu rows have errors",
                                            static_cast<long long>(errors), stager.rows())));
                });
        }
        spi.finish();
    }
    staging(false);
    return Datum(0);
}

pg::Statement options_sql = {"SELECT kind, code, name FROM clinres._import_options($1)", 1, {UUIDOID}};

// import_template(format) -> bytea
Datum import_template(FunctionCallInfo fcinfo)
{
    require_utf8_database();
    im::Format format = output_format(fcinfo, 0);
    std::vector<im::CodeName> roles, modules;
    pg::OwnerSpi spi(users::catalog_owner(), false);
    Datum tenant = checked_tenant(spi, fcinfo, -1, "create");
    pg::Rows rows = spi.run(options_sql, &tenant);
    spi.finish();
    for (std::size_t r = 0; r < rows.size(); ++r)
        (rows.at(r, 0).text == "role" ? roles : modules).push_back({rows.at(r, 1).text, rows.at(r, 2).text});
    return pg::bytea_datum(im::users_template(format, roles, modules));
}

pg::Statement export_sql = {
    "SELECT email, name, phone, role_code, modules, status, membership_status, created_at,"
    " last_login_at, valid_from, valid_until FROM clinres._export_rows($1)",
    1,
    {UUIDOID}};
// The same from SQL older than 0.4.0 (its rows have no validity: the columns stay empty).
pg::Statement export_sql_0_3 = {
    "SELECT email, name, phone, role_code, modules, status, membership_status, created_at,"
    " last_login_at, NULL::text, NULL::text FROM clinres._export_rows($1)",
    1,
    {UUIDOID}};
// Whether the database's SQL is 0.4.0's, whose export rows carry the membership's validity.
pg::Statement export_validity_sql = {
    "SELECT pg_catalog.to_regprocedure('clinres._import_validity_problem(text, text)') IS NOT NULL", 0, {}};

// export_users(tenant_id, format) -> bytea
Datum export_users(FunctionCallInfo fcinfo)
{
    require_utf8_database();
    im::Format format = output_format(fcinfo, 1);
    pg::OwnerSpi spi(users::catalog_owner(), false);
    Datum tenant = checked_tenant(spi, fcinfo, 0, "export");
    bool validity = spi.run(export_validity_sql, nullptr).at(0, 0).num != 0;
    im::SheetData sheet{"users 用户", im::user_headers(), {}};
    for (const char *h :
         {"status/状态", "membership status/成员状态", "created at/创建时间", "last login/最近登录"})
        sheet.header.emplace_back(h);
    users::ExportBudget budget("export_users");
    spi.each(validity ? export_sql : export_sql_0_3, &tenant, nullptr, false, 5000,
             [&](const pg::Rows &rows) {
                 for (std::size_t r = 0; r < rows.size(); ++r) {
                     auto cell = [&](int c) {
                         std::string text = rows.at(r, c).null ? std::string() : rows.at(r, c).text;
                         budget.add(text.size() + 1);
                         return text;
                     };
                     sheet.rows.push_back({cell(0), cell(1), cell(2), cell(3), cell(4), "", cell(9), cell(10),
                                           cell(5), cell(6), cell(7), cell(8)});
                 }
             });
    spi.finish();
    return pg::bytea_datum(
        budget.file(format == im::Format::xlsx ? im::write_xlsx({sheet}) : im::write_csv(sheet)));
}

} // namespace

CLINRES_FUNCTION(clinres_import_users, import_users)
CLINRES_FUNCTION(clinres_import_template, import_template)
CLINRES_FUNCTION(clinres_export_users, export_users)
