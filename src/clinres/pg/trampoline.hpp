// The plain function pg::call runs under PG_TRY (guard.hpp). Pure C++.
#pragma once

namespace pg::detail {

// Calls the callable *p. noexcept: a C++ exception escaping a pg::call lambda stops the
// backend at once (std::terminate) instead of unwinding through PG_TRY's frame and
// leaving PG_exception_stack pointing at a dead stack frame.
template <typename F> void trampoline(void *p) noexcept
{
    (*static_cast<F *>(p))();
}

} // namespace pg::detail
