// clinres._bridge_selftest: lets the regression suite prove the error bridge works.
#include "clinres/pg/guard.hpp"

#include <stdexcept>
#include <string>

namespace {

int live_trackers = 0; // objects whose destructor has not run yet

// An object with a destructor, alive while an error is raised beneath it.
struct Tracker {
    Tracker() { ++live_trackers; }
    ~Tracker() { --live_trackers; }
    Tracker(const Tracker &) = delete;
    Tracker &operator=(const Tracker &) = delete;
};

// Raises the error named by mode from a few C++ frames down, with a Tracker alive in each.
void raise_deep(const std::string &mode, int depth)
{
    Tracker alive;
    if (depth > 0)
        return raise_deep(mode, depth - 1);
    if (mode == "cpp")
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "bridge self-test error raised in C++",
                        "The error was thrown three frames deep.", "This is what a hint looks like.");
    if (mode == "pg") {
        pg::call([] { DirectFunctionCall2(int4div, Int32GetDatum(1), Int32GetDatum(0)); });
        return;
    }
    if (mode == "std")
        throw std::runtime_error("a standard exception");
    throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown self-test mode \"" + mode + "\"", {},
                    "Use one of: cpp, pg, std, live.");
}

// Body of _bridge_selftest(mode): raises an error, or reports live trackers for 'live'.
Datum bridge_selftest(FunctionCallInfo fcinfo)
{
    std::string mode = text_to_cstring(PG_GETARG_TEXT_PP(0));
    if (mode == "live")
        return Int32GetDatum(live_trackers);
    raise_deep(mode, 3);
    return Int32GetDatum(live_trackers);
}

} // namespace

CLINRES_FUNCTION(clinres_bridge_selftest, bridge_selftest)
