// The text form of session tokens: what is accepted, what is refused before any MAC is computed.
#include "clinres/session/token.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace session;

namespace {

Claims sample()
{
    Claims c;
    c.key_id = 7;
    for (int i = 0; i < 16; ++i) {
        c.user.bytes[i] = static_cast<unsigned char>(i);
        c.tenant.bytes[i] = static_cast<unsigned char>(0xf0 | i);
    }
    c.expires = 1795602810;
    return c;
}

std::string token_of(const Claims &c)
{
    unsigned char mac[32];
    for (int i = 0; i < 32; ++i)
        mac[i] = static_cast<unsigned char>(i * 7);
    return token_text(c, mac, sizeof mac);
}

bool parses(const std::string &t)
{
    Claims c;
    std::string_view signed_part;
    unsigned char mac[32];
    return parse_token(t, c, signed_part, mac);
}

} // namespace

TEST(Token, RoundTrip)
{
    Claims c = sample();
    std::string t = token_of(c);
    EXPECT_EQ(claims_text(c),
              "7.00010203-0405-0607-0809-0a0b0c0d0e0f.f0f1f2f3-f4f5-f6f7-f8f9-fafbfcfdfeff.1795602810");
    Claims back;
    std::string_view signed_part;
    unsigned char mac[32];
    ASSERT_TRUE(parse_token(t, back, signed_part, mac));
    EXPECT_EQ(back.key_id, 7);
    EXPECT_TRUE(back.user == c.user);
    EXPECT_TRUE(back.tenant == c.tenant);
    EXPECT_EQ(back.expires, c.expires);
    EXPECT_EQ(signed_part, claims_text(c));
    for (int i = 0; i < 32; ++i)
        EXPECT_EQ(mac[i], static_cast<unsigned char>(i * 7));
}

TEST(Token, RefusesEverySpellingButTheCanonicalOne)
{
    std::string t = token_of(sample());
    EXPECT_TRUE(parses(t));
    EXPECT_FALSE(parses(""));
    EXPECT_FALSE(parses("1.2.3.4.5"));
    EXPECT_FALSE(parses(t + "."));
    EXPECT_FALSE(parses(t + "0"));                                         // MAC too long
    EXPECT_FALSE(parses(t.substr(0, t.size() - 1)));                       // MAC too short
    EXPECT_FALSE(parses("0" + t));                                         // leading zero in the key id
    EXPECT_FALSE(parses("+" + t));                                         // sign
    EXPECT_FALSE(parses("99999999999." + t.substr(2)));                    // key id over int32
    EXPECT_FALSE(parses(std::string(t).replace(t.find('.') + 1, 1, "A"))); // upper-case hex in the uuid
    EXPECT_FALSE(parses(std::string(t).replace(t.find('-'), 1, "x")));     // uuid without its dash
    std::string mac_upper = t;
    mac_upper[mac_upper.size() - 1] = 'F';
    EXPECT_FALSE(parses(mac_upper)); // upper-case hex in the MAC
}

TEST(Token, SessionTokensNameTheirSession)
{
    Claims c = sample();
    c.has_session = true;
    for (int i = 0; i < 16; ++i)
        c.session.bytes[i] = static_cast<unsigned char>(0xa0 | i);
    std::string t = token_of(c);
    EXPECT_EQ(claims_text(c),
              "7.00010203-0405-0607-0809-0a0b0c0d0e0f.f0f1f2f3-f4f5-f6f7-f8f9-fafbfcfdfeff.1795602810."
              "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
    EXPECT_EQ(signed_prefix(c), "clinres-session/2:");
    EXPECT_EQ(signed_prefix(sample()), "clinres-session/1:") << "0.3.0's tokens keep their MAC's prefix";
    Claims back;
    std::string_view signed_part;
    unsigned char mac[32];
    ASSERT_TRUE(parse_token(t, back, signed_part, mac));
    EXPECT_TRUE(back.has_session);
    EXPECT_TRUE(back.session == c.session);
    EXPECT_EQ(signed_part, claims_text(c));
    ASSERT_TRUE(parse_token(token_of(sample()), back, signed_part, mac));
    EXPECT_FALSE(back.has_session);
    std::string session_part = t.substr(t.find(".a0a1"), 37);
    EXPECT_FALSE(parses(std::string(t).insert(t.find(".a0a1"), session_part))) << "seven parts";
    EXPECT_FALSE(parses(std::string(t).replace(t.find(".a0a1") + 1, 1, "A"))) << "upper-case session uuid";
    EXPECT_FALSE(parses(std::string(t).replace(t.find(".a0a1") + 1, 36, "x"))) << "not a uuid";
}

TEST(Token, ConstantTimeEquality)
{
    unsigned char a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4}, c[4] = {1, 2, 3, 5};
    EXPECT_TRUE(equal_in_constant_time(a, b, 4));
    EXPECT_FALSE(equal_in_constant_time(a, c, 4));
    EXPECT_TRUE(equal_in_constant_time(a, c, 3));
}
