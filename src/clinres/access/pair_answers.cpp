// Packing a pair's rulings for the shared access table, and the fingerprint of the globals
// they were computed with.
#include "clinres/access/pair_answers.hpp"

#include <algorithm>

namespace modaccess {

bool pack_answers(const Globals &g, const Access &a, const TenantEntry &t, int64_t now, PairAnswers &out)
{
    if (g.modules.size() > 64)
        return false;
    PairAnswers p;
    bool bounded = false;
    for (size_t m = 0; m < g.modules.size(); ++m) {
        Ruling r = rule(g, a, t, static_cast<int>(m), now);
        if (!(r.from < r.until))
            continue; // holds at no instant
        if (r.from != kDenied)
            return false;
        if (r.until <= now) {
            p.from = std::max(p.from, r.until); // ended: from then on, as if it held at no instant
            continue;
        }
        p.allowed |= uint64_t(1) << m;
        if (r.until == kForever)
            continue;
        if (bounded && r.until != p.until)
            return false;
        bounded = true;
        p.bounded |= uint64_t(1) << m;
        p.until = r.until;
    }
    out = p;
    return true;
}

namespace {

// FNV-1a over bytes, continued from h.
uint64_t mix(uint64_t h, const void *data, size_t n)
{
    const auto *p = static_cast<const unsigned char *>(data);
    for (size_t i = 0; i < n; ++i)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

// A string with its length, so that no two lists of strings hash alike by concatenation.
uint64_t mix_string(uint64_t h, const std::string &s)
{
    uint64_t n = s.size();
    return mix(mix(h, &n, sizeof n), s.data(), s.size());
}

} // namespace

uint64_t globals_fingerprint(const Globals &g)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const Module &m : g.modules) {
        for (const std::string *s : {&m.code, &m.name, &m.route, &m.schema_name})
            h = mix_string(h, *s);
        int64_t facts[2] = {m.sort_order, m.active};
        h = mix(h, facts, sizeof facts);
    }
    for (const std::string &p : g.permissions)
        h = mix_string(h, p);
    for (size_t r = 0; r < g.roles.size(); ++r) {
        h = mix_string(h, g.roles[r]);
        unsigned char platform = r < g.role_is_platform.size() && g.role_is_platform[r];
        h = mix(h, &platform, 1);
        if (r < g.role_permissions.size())
            for (bool held : g.role_permissions[r]) {
                unsigned char b = held;
                h = mix(h, &b, 1);
            }
    }
    uint64_t sizes[3] = {g.modules.size(), g.permissions.size(), g.roles.size()};
    h = mix(h, sizes, sizeof sizes);
    return h == 0 ? 1 : h; // 0 means "none" to the table's users
}

} // namespace modaccess
