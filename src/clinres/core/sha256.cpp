// SHA-256 through OpenSSL's EVP interface (see sha256.hpp).
#include "clinres/core/sha256.hpp"

#include <openssl/evp.h>

#include <new>

namespace clinres {

namespace {

// SHA-256 as the default provider implements it, fetched once per process (an implicit fetch
// at every EVP_DigestInit_ex would cost more than hashing a short row).
const EVP_MD *sha256_md() noexcept
{
    static EVP_MD *fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
}

} // namespace

bool sha256(const void *a, std::size_t alen, const void *b, std::size_t blen,
            std::array<uint8_t, 32> &out) noexcept
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, sha256_md(), nullptr) == 1 &&
              (alen == 0 || EVP_DigestUpdate(ctx, a, alen) == 1) &&
              (b == nullptr || blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
              EVP_DigestFinal_ex(ctx, out.data(), &n) == 1 && n == out.size();
    EVP_MD_CTX_free(ctx);
    return ok;
}

std::string sha256_hex(const void *a, std::size_t alen, const void *b, std::size_t blen)
{
    std::array<uint8_t, 32> d{};
    if (!sha256(a, alen, b, blen, d))
        throw std::bad_alloc();
    static const char digits[] = "0123456789abcdef";
    std::string hex(64, '0');
    for (std::size_t i = 0; i < d.size(); ++i) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    return hex;
}

} // namespace clinres
