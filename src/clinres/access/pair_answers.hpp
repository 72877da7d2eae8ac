// A (user, tenant) pair's answers for every module in three words, as the shared access
// table (shared_table.cpp) holds them: the windows of rule(), which for a user without
// validities all start at -infinity. Pure C++.
#pragma once

#include "clinres/access/model.hpp"

namespace modaccess {

struct PairAnswers {
    uint64_t allowed = 0; // modules whose window holds some instant
    uint64_t bounded = 0; // of those, the ones whose window ends at `until` (the others: never)
    int64_t until = kDenied;

    // Until when module m may be used, asked at instant now: module_until's answer.
    int64_t until_at(int m, int64_t now) const
    {
        if (!(allowed >> m & 1))
            return kDenied;
        Ruling r{Reason::Granted, kDenied, bounded >> m & 1 ? until : kForever};
        return r.allowed(now) ? r.until : kDenied;
    }
};

// Packs the rulings of every module of g for a in t; false if they do not fit: more than 64
// modules, a window that starts after -infinity, or windows that end at two instants.
bool pack_answers(const Globals &g, const Access &a, const TenantEntry &t, int64_t now, PairAnswers &out);

// A hash of everything in g (modules in order, roles, permissions and grants): two backends
// that read the same catalog get the same value, and interpret a packed answer the same way.
uint64_t globals_fingerprint(const Globals &g);

} // namespace modaccess
