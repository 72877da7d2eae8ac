// SHA-256 (FIPS 180-4) in pure C++, for the audit trail's digests: the OpenSSL path PostgreSQL's
// pg_cryptohash takes costs microseconds per call to set up, more than hashing a row. Uses the
// x86 SHA extensions when the CPU has them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "clinres/core/pure.hpp"

namespace clinres {

// An incremental SHA-256.
class Sha256 {
public:
    Sha256();
    void update(const void *data, std::size_t len);
    // The digest; the object is spent afterwards.
    std::array<uint8_t, 32> finish();

private:
    void block(const uint8_t *p);
    uint32_t h_[8];
    uint8_t buf_[64];
    std::size_t buffered_ = 0;
    uint64_t total_ = 0;
};

// Tests only: computes without the CPU's SHA extensions (on) or with them where present (off).
void sha256_force_portable(bool on);

// The lower-case hex SHA-256 of a then b.
std::string sha256_hex(const void *a, std::size_t alen, const void *b = nullptr, std::size_t blen = 0);

} // namespace clinres
