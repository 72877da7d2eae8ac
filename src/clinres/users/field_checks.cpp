// The C++ of the user fields' checks (clinres._field_problem in rules.sql): the characters a name
// must not contain, defined once in visible_text.hpp for names and change reasons alike.
#include "clinres/pg/datum.hpp"
#include "clinres/pg/guard.hpp"
#include "clinres/users/visible_text.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

namespace users {

namespace {

// clinres._invisible_at(text) -> int: the position (in characters, from 1) of the first character
// a name must not contain, 0 when there is none.
Datum invisible_at(FunctionCallInfo fcinfo)
{
    std::optional<Invisible> bad = first_invisible(pg::text_arg(fcinfo, 0), GetDatabaseEncoding() == PG_UTF8);
    return Int32GetDatum(bad ? static_cast<int32>(bad->position) : 0);
}

} // namespace

} // namespace users

CLINRES_FUNCTION(clinres_invisible_at, users::invisible_at)
