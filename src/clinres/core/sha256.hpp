// SHA-256 for the audit trail's digests, by OpenSSL's libcrypto (EVP, with its CPU-specific
// code): never a hand-written hash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "clinres/core/pure.hpp"

namespace clinres {

// The SHA-256 of a then b into out; false only when libcrypto could not allocate its context.
// Creates no C++ object: safe inside pg::call.
bool sha256(const void *a, std::size_t alen, const void *b, std::size_t blen,
            std::array<uint8_t, 32> &out) noexcept;

// The lower-case hex SHA-256 of a then b; std::bad_alloc when sha256 fails.
std::string sha256_hex(const void *a, std::size_t alen, const void *b = nullptr, std::size_t blen = 0);

} // namespace clinres
