// The bridge between C++ and PostgreSQL error handling (docs/reference.md, "The C++ bridge").
//
// Rule 1: no C++ exception unwinds into PostgreSQL. Every SQL-callable function is
// declared with CLINRES_FUNCTION, whose body runs inside pg::run_entry; anything it
// throws is turned into ereport(ERROR) after the C++ frames are gone.
// Rule 2: no PostgreSQL error longjmps over live C++ destructors. A PostgreSQL call
// that can fail, made while C++ objects are alive, goes through pg::call, which
// catches the error with PG_TRY and rethrows it as pg::Error carrying the ErrorData,
// so SQLSTATE, message, detail, hint and context reach the client unchanged.
// A lambda given to pg::call must itself create no objects with destructors.
#pragma once

#include "clinres/pg/postgres.hpp"
#include "clinres/pg/trampoline.hpp"

#include <exception>
#include <string>

namespace pg {

// An error headed for the client: raised in C++ or caught from PostgreSQL.
class Error : public std::exception {
public:
    Error(int sqlstate, std::string message, std::string detail = {}, std::string hint = {});
    explicit Error(ErrorData *caught);

    // One of clinres's own denials: SQLSTATE 42501 (or `sqlstate`) carrying the marker
    // schema_name = 'clinres', table_name = kind ("module", "permission", "session"),
    // column_name = what (the module or permission code); see docs/sessions.md.
    static Error denial(std::string kind, std::string what, std::string message, std::string detail = {},
                        std::string hint = {}, int sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE);

    const char *what() const noexcept override { return message_.c_str(); }
    int sqlstate() const { return sqlstate_; }
    const std::string &detail() const { return detail_; }
    const std::string &hint() const { return hint_; }
    ErrorData *caught() const { return caught_; }
    const std::string &denial_kind() const { return denial_kind_; }
    const std::string &denial_what() const { return denial_what_; }

private:
    int sqlstate_;
    std::string message_, detail_, hint_;
    std::string denial_kind_, denial_what_; // empty unless a denial
    ErrorData *caught_ = nullptr;           // palloc'd copy of a PostgreSQL error, or null
};

namespace detail {
// Runs fn(arg) under PG_TRY; a PostgreSQL error becomes a thrown pg::Error. fn must not
// throw (the type says so): nothing may unwind through PG_TRY.
void run_guarded(void (*fn)(void *) noexcept, void *arg);
} // namespace detail

// Runs f (PostgreSQL calls only) so that an ereport(ERROR) inside it becomes pg::Error;
// a C++ exception escaping f terminates the backend (see trampoline.hpp).
template <typename F> void call(F &&f)
{
    detail::run_guarded(&detail::trampoline<std::remove_reference_t<F>>, &f);
}

// Raises an ERROR with the denial marker (schema 'clinres', table kind, column what).
[[noreturn]] void raise_denial(int sqlstate, const char *kind, const char *what, const char *message,
                               const char *detail, const char *hint);

// Runs the C++ body of a SQL-callable function and reports anything it throws.
Datum run_entry(FunctionCallInfo fcinfo, Datum (*body)(FunctionCallInfo));

} // namespace pg

// Declares the SQL-callable C function `name` whose C++ body is `body`.
#define CLINRES_FUNCTION(name, body)                                                                         \
    extern "C" {                                                                                             \
    PG_FUNCTION_INFO_V1(name);                                                                               \
    Datum name(PG_FUNCTION_ARGS)                                                                             \
    {                                                                                                        \
        return pg::run_entry(fcinfo, body);                                                                  \
    }                                                                                                        \
    }
