// The characters a name or a change reason must not contain (visible_text.hpp).
#include <gtest/gtest.h>

#include "clinres/users/visible_text.hpp"

using users::first_invisible;

TEST(VisibleText, FindsTheFirstRefusedCharacterByCharacterPosition)
{
    EXPECT_FALSE(first_invisible("Zhang San", true));
    EXPECT_FALSE(first_invisible("张三 O'Brien-Łukasz", true));
    auto lf = first_invisible("Approved\nby QA", true);
    ASSERT_TRUE(lf);
    EXPECT_EQ(lf->code_point, 0x0Au);
    EXPECT_EQ(lf->position, 9u);
    auto rlo = first_invisible("张三\u202Eabc", true); // two 3-byte characters before it
    ASSERT_TRUE(rlo);
    EXPECT_EQ(rlo->code_point, 0x202Eu);
    EXPECT_EQ(rlo->position, 3u);
    auto bom = first_invisible("a\uFEFF", true);
    ASSERT_TRUE(bom);
    EXPECT_EQ(bom->code_point, 0xFEFFu);
}

TEST(VisibleText, EveryRangeAndItsNeighbours)
{
    for (uint32_t cp : {0x01u, 0x1Fu, 0x7Fu, 0x80u, 0x9Fu, 0x200Bu, 0x200Eu, 0x200Fu, 0x202Au, 0x202Eu,
                        0x2028u, 0x2029u, 0x2060u, 0x2064u, 0x2066u, 0x2069u, 0xFEFFu})
        EXPECT_TRUE(users::is_invisible(cp)) << std::hex << cp;
    // Zero width (non-)joiners are kept: Persian and Indic names and emoji need them.
    for (uint32_t cp :
         {0x20u, 0x7Eu, 0xA0u, 0x200Cu, 0x200Du, 0x2027u, 0x202Fu, 0x2065u, 0x206Au, 0xFEFEu, 0x1F600u})
        EXPECT_FALSE(users::is_invisible(cp)) << std::hex << cp;
}

TEST(VisibleText, OtherEncodingsAreReadAsBytesAndOnlyAsciiIsJudged)
{
    EXPECT_FALSE(first_invisible("\x80\x9f", false)); // lead bytes of GBK, not C1
    auto tab = first_invisible("ab\tc", false);
    ASSERT_TRUE(tab);
    EXPECT_EQ(tab->position, 3u);
}

TEST(VisibleText, CountsCharacters)
{
    EXPECT_EQ(users::character_count("张三", true), 2u);
    EXPECT_EQ(users::character_count("张三", false), 6u);
    EXPECT_EQ(users::character_count("", true), 0u);
}
