// The limits of the users import as settings (docs/import.md, "Limits").
#include "clinres/users/import_settings.hpp"

#include "clinres/pg/postgres.hpp"

namespace users {

namespace {

using clinres::import::Limit;

// Current values; the defaults are those of clinres::import::Limits.
const clinres::import::Limits defaults;
int max_bytes = int(defaults.file_bytes);
int max_uncompressed_bytes = int(defaults.uncompressed_bytes);
int max_rows = int(defaults.rows);
int max_columns = int(defaults.columns);
int max_cell_length = int(defaults.cell_bytes);
int max_xml_depth = int(defaults.xml_depth);
int max_text_bytes = int(defaults.text_bytes);
int max_modules_per_cell = int(defaults.modules_per_cell);
// About 30 s of bcrypt at the default cost 10 (about 50 ms a hash; docs/import.md, "Limits").
int max_password_rows = 600;

// Defines one limit; superuser-only, as the limits protect the server from the files its users send.
void define(const char *name, const char *description, int *value, int min, int max, int flags)
{
    DefineCustomIntVariable(name, description, nullptr, value, *value, min, max, PGC_SUSET, flags, nullptr,
                            nullptr, nullptr);
}

} // namespace

void init_import_settings()
{
    define("clinres.import_max_bytes", "Largest file import_users reads.", &max_bytes, 1,
           int(MaxAllocSize / 2), GUC_UNIT_BYTE);
    define("clinres.import_max_uncompressed_bytes",
           "Most bytes import_users inflates from an .xlsx file, all parts together (zip bombs).",
           &max_uncompressed_bytes, 1, INT_MAX, GUC_UNIT_BYTE);
    define("clinres.import_max_rows", "Most non-empty rows import_users reads from a sheet, header included.",
           &max_rows, 1, INT_MAX, 0);
    define("clinres.import_max_columns", "Highest column import_users reads (A = 1).", &max_columns, 1, 16384,
           0);
    define("clinres.import_max_cell_length", "Most bytes in one cell of an import file.", &max_cell_length, 1,
           int(MaxAllocSize / 2), GUC_UNIT_BYTE);
    define("clinres.import_max_xml_depth", "Deepest element nesting import_users accepts in an .xlsx part.",
           &max_xml_depth, 4, 10000, 0);
    define("clinres.import_max_text_bytes",
           "Most bytes of text import_users decodes from a file: every cell read (a shared string each "
           "time a cell uses it) and every stored string.",
           &max_text_bytes, 1, int(MaxAllocSize / 2), GUC_UNIT_BYTE);
    define("clinres.import_max_modules_per_cell", "Most modules one cell of an import file may name.",
           &max_modules_per_cell, 1, 100000, 0);
    define("clinres.import_max_password_rows",
           "Most rows with a password one import_users call may have (each costs one bcrypt hash).",
           &max_password_rows, 0, INT_MAX, 0);
}

int import_max_password_rows()
{
    return max_password_rows;
}

clinres::import::Limits import_limits()
{
    clinres::import::Limits limits;
    limits.file_bytes = std::size_t(max_bytes);
    limits.uncompressed_bytes = std::size_t(max_uncompressed_bytes);
    limits.rows = std::size_t(max_rows);
    limits.columns = std::size_t(max_columns);
    limits.cell_bytes = std::size_t(max_cell_length);
    limits.xml_depth = std::size_t(max_xml_depth);
    limits.text_bytes = std::size_t(max_text_bytes);
    limits.modules_per_cell = std::size_t(max_modules_per_cell);
    return limits;
}

const char *limit_setting(Limit limit)
{
    switch (limit) {
    case Limit::file_bytes:
        return "clinres.import_max_bytes";
    case Limit::uncompressed_bytes:
        return "clinres.import_max_uncompressed_bytes";
    case Limit::rows:
        return "clinres.import_max_rows";
    case Limit::columns:
        return "clinres.import_max_columns";
    case Limit::cell_bytes:
        return "clinres.import_max_cell_length";
    case Limit::xml_depth:
        return "clinres.import_max_xml_depth";
    case Limit::text_bytes:
        return "clinres.import_max_text_bytes";
    case Limit::modules_per_cell:
        return "clinres.import_max_modules_per_cell";
    }
    return "unknown";
}

std::size_t limit_value(const clinres::import::Limits &limits, Limit limit)
{
    switch (limit) {
    case Limit::file_bytes:
        return limits.file_bytes;
    case Limit::uncompressed_bytes:
        return limits.uncompressed_bytes;
    case Limit::rows:
        return limits.rows;
    case Limit::columns:
        return limits.columns;
    case Limit::cell_bytes:
        return limits.cell_bytes;
    case Limit::xml_depth:
        return limits.xml_depth;
    case Limit::text_bytes:
        return limits.text_bytes;
    case Limit::modules_per_cell:
        return limits.modules_per_cell;
    }
    return 0;
}

} // namespace users
