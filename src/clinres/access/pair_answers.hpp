// A (user, tenant) pair's answers for every module in three words, as the shared access
// table (shared_table.cpp) holds them: the windows of rule(), which for a user without
// validities all start at -infinity. Pure C++.
#pragma once

#include "clinres/access/model.hpp"

namespace modaccess {

struct PairAnswers {
    uint64_t allowed = 0; // modules whose window holds some instant from `from` on
    uint64_t bounded = 0; // of those, the ones whose window ends at `until` (the others: never)
    int64_t until = kDenied;
    // The answers hold at this instant and later: a window that ended before the instant
    // packed at is packed as none, and from is its end.
    int64_t from = kDenied;

    // Whether the answers hold at instant now.
    bool answers_at(int64_t now) const { return now >= from; }

    // Until when module m may be used, asked at instant now (answers_at(now)): module_until's answer.
    int64_t until_at(int m, int64_t now) const
    {
        if (!(allowed >> m & 1))
            return kDenied;
        Ruling r{Reason::Granted, kDenied, bounded >> m & 1 ? until : kForever};
        return r.allowed(now) ? r.until : kDenied;
    }
};

// Packs the rulings of every module of g for a in t, as they answer at now and later; false if
// they do not fit: more than 64 modules, a window that starts after -infinity, or windows that
// end at two instants after now.
bool pack_answers(const Globals &g, const Access &a, const TenantEntry &t, int64_t now, PairAnswers &out);

// A hash of everything in g (modules in order, roles, permissions and grants): two backends
// that read the same catalog get the same value, and interpret a packed answer the same way.
uint64_t globals_fingerprint(const Globals &g);

} // namespace modaccess
