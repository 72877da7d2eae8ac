// Implementation of the C++/PostgreSQL error bridge described in guard.hpp.
#include "clinres/pg/guard.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

#include <cstdio>
#include <cstring>
#include <new>

namespace pg {

Error::Error(int sqlstate, std::string message, std::string detail, std::string hint)
    : sqlstate_(sqlstate), message_(std::move(message)), detail_(std::move(detail)), hint_(std::move(hint))
{
}

Error Error::denial(std::string kind, std::string what, std::string message, std::string detail,
                    std::string hint, int sqlstate)
{
    Error e(sqlstate, std::move(message), std::move(detail), std::move(hint));
    e.denial_kind_ = std::move(kind);
    e.denial_what_ = std::move(what);
    return e;
}

Error::Error(ErrorData *caught)
    : sqlstate_(caught->sqlerrcode), message_(caught->message ? caught->message : ""), caught_(caught)
{
}

namespace detail {

void run_guarded(void (*fn)(void *) noexcept, void *arg)
{
    MemoryContext cxt = CurrentMemoryContext;
    ErrorData *volatile caught = nullptr;
    PG_TRY();
    {
        fn(arg);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        caught = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (caught)
        throw Error(caught);
}

} // namespace detail

namespace {
// Fixed buffers: the catch blocks below copy into them without allocating.
char msg_buf[1024], detail_buf[1024], hint_buf[1024], kind_buf[64], what_buf[256];

// Ends buf, which snprintf may have cut inside a multibyte character, after its last
// whole character (pg_mbcliplen neither allocates nor raises).
void clip_to_character(char *buf)
{
    int len = static_cast<int>(strlen(buf));
    buf[pg_mbcliplen(buf, len, len)] = '\0';
}
} // namespace

void raise_denial(int sqlstate, const char *kind, const char *what, const char *message, const char *detail,
                  const char *hint)
{
    ereport(ERROR,
            (errcode(sqlstate), errmsg_internal("%s", message),
             detail && *detail ? errdetail_internal("%s", detail) : 0,
             hint && *hint ? errhint("%s", hint) : 0, err_generic_string(PG_DIAG_SCHEMA_NAME, "clinres"),
             err_generic_string(PG_DIAG_TABLE_NAME, kind), err_generic_string(PG_DIAG_COLUMN_NAME, what)));
    pg_unreachable();
}

Datum run_entry(FunctionCallInfo fcinfo, Datum (*body)(FunctionCallInfo))
{
    ErrorData *caught = nullptr;
    int sqlstate = ERRCODE_INTERNAL_ERROR;
    try {
        return body(fcinfo);
    } catch (const Error &e) {
        caught = e.caught();
        sqlstate = e.sqlstate();
        snprintf(msg_buf, sizeof msg_buf, "%s", e.what());
        snprintf(detail_buf, sizeof detail_buf, "%s", e.detail().c_str());
        snprintf(hint_buf, sizeof hint_buf, "%s", e.hint().c_str());
        snprintf(kind_buf, sizeof kind_buf, "%s", e.denial_kind().c_str());
        snprintf(what_buf, sizeof what_buf, "%s", e.denial_what().c_str());
    } catch (const std::bad_alloc &) {
        sqlstate = ERRCODE_OUT_OF_MEMORY;
        snprintf(msg_buf, sizeof msg_buf, "out of memory in clinres");
        detail_buf[0] = hint_buf[0] = kind_buf[0] = '\0';
    } catch (const std::exception &e) {
        snprintf(msg_buf, sizeof msg_buf, "clinres internal error: %s", e.what());
        detail_buf[0] = hint_buf[0] = kind_buf[0] = '\0';
    } catch (...) {
        snprintf(msg_buf, sizeof msg_buf, "clinres internal error: unknown exception");
        detail_buf[0] = hint_buf[0] = kind_buf[0] = '\0';
    }
    clip_to_character(msg_buf);
    clip_to_character(detail_buf);
    clip_to_character(hint_buf);
    clip_to_character(what_buf);
    // Every C++ object of the body is destroyed here; now it is safe to longjmp.
    if (caught)
        ReThrowError(caught);
    if (kind_buf[0])
        raise_denial(sqlstate, kind_buf, what_buf, msg_buf, detail_buf, hint_buf);
    ereport(ERROR, (errcode(sqlstate), errmsg_internal("%s", msg_buf),
                    detail_buf[0] ? errdetail_internal("%s", detail_buf) : 0,
                    hint_buf[0] ? errhint("%s", hint_buf) : 0));
    pg_unreachable();
}

} // namespace pg
