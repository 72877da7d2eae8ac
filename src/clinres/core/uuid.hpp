// A uuid as 16 bytes, a value type shared by the bridge and the domain. Pure C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "clinres/core/pure.hpp"

namespace clinres {

struct Uuid {
    unsigned char bytes[16];
    // The two halves as integers: comparisons are two loads, not a call to memcmp.
    uint64_t hi() const
    {
        uint64_t w;
        std::memcpy(&w, bytes, 8);
        return w;
    }
    uint64_t lo() const
    {
        uint64_t w;
        std::memcpy(&w, bytes + 8, 8);
        return w;
    }
    bool operator==(const Uuid &o) const { return hi() == o.hi() && lo() == o.lo(); }
    // A total order (not the byte order): all that sorting memberships needs.
    bool operator<(const Uuid &o) const { return hi() != o.hi() ? hi() < o.hi() : lo() < o.lo(); }
};

// Hashes a uuid by mixing its two 64-bit words.
struct UuidHash {
    size_t operator()(const Uuid &u) const
    {
        uint64_t h = (u.hi() ^ 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;
        h = (h ^ (h >> 32) ^ u.lo()) * 0xc4ceb9fe1a85ec53ULL;
        return static_cast<size_t>(h ^ (h >> 29));
    }
};

} // namespace clinres
