// The trail's SHA-256 (OpenSSL) against the FIPS 180-4 / NIST test vectors, at every split of the input.
#include "clinres/core/sha256.hpp"

#include <gtest/gtest.h>

#include <string>

using clinres::sha256_hex;

TEST(Sha256, NistVectors)
{
    EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    EXPECT_EQ(sha256_hex(two.data(), two.size()),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    std::string million(1000000, 'a');
    EXPECT_EQ(sha256_hex(million.data(), million.size()),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, AnySplitGivesTheSameDigest)
{
    std::string s;
    for (int i = 0; i < 200; ++i)
        s += static_cast<char>('a' + i % 26);
    std::string whole = sha256_hex(s.data(), s.size());
    for (std::size_t cut = 0; cut <= s.size(); ++cut)
        EXPECT_EQ(sha256_hex(s.data(), cut, s.data() + cut, s.size() - cut), whole) << cut;
}
