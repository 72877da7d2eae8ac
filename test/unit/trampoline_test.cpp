// pg::call's trampoline runs under PG_TRY: a C++ exception must not leave it (it would
// unwind through PG_TRY's frame), so it terminates the process loudly instead.
#include "clinres/pg/trampoline.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace {

struct Throws {
    void operator()() const { throw std::runtime_error("escaped a pg::call lambda"); }
};

struct Counts {
    int calls = 0;
    void operator()() { ++calls; }
};

TEST(Trampoline, CallsTheCallable)
{
    Counts c;
    pg::detail::trampoline<Counts>(&c);
    EXPECT_EQ(c.calls, 1);
}

TEST(TrampolineDeathTest, AnEscapingExceptionTerminates)
{
    Throws t;
    EXPECT_DEATH(pg::detail::trampoline<Throws>(&t), "escaped a pg::call lambda|terminate");
}

} // namespace
