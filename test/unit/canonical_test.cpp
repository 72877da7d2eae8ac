// The canonical form of an audit row (users/canonical.cpp) against the text PostgreSQL's
// jsonb_build_array gave for the same rows (the SQL form of 0.3.0 and of 0.4.0's first builds),
// and which digest each form hashes for the detail.
#include "clinres/users/canonical.hpp"

#include <gtest/gtest.h>

#include <string>

using users::CanonicalRow;
using users::DetailDigest;

namespace {

const std::string kActor("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xa1", 16);
const std::string kTenant("\xa0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0a", 16);

} // namespace

TEST(Canonical, FormTwoEscapesAsJsonb)
{
    CanonicalRow r;
    r.version = 2;
    r.id = 42;
    r.created_at = "2026-01-01T19:04:05.678";
    r.actor = kActor;
    r.action = "q\"b\\n\nt\tc\x01\xc3\xa9\xe2\x9c\x93";
    r.detail_digest = "334a75cd40478f37038c7006bead485ae17dd29b71ecec7f9187dd11427bf0cb";
    r.change_reason = "why\r";
    r.prev_hash = std::string_view("\x00\xff\x10", 3);
    std::string out = "left over";
    users::canonical_text(r, out);
    EXPECT_EQ(
        out, "[2, 42, \"2026-01-01T19:04:05.678\", \"00000000-0000-0000-0000-0000000000a1\", null, "
             "\"q\\\"b\\\\n\\nt\\tc\\u0001\xc3\xa9\xe2\x9c\x93\", null, "
             "\"334a75cd40478f37038c7006bead485ae17dd29b71ecec7f9187dd11427bf0cb\", \"why\\r\", \"00ff10\"]");
}

TEST(Canonical, FormOneHasNoLeadingVersion)
{
    CanonicalRow r;
    r.version = 1;
    r.id = 7;
    r.created_at = "2026-03-04T05:06:07";
    r.tenant = kTenant;
    r.action = "a";
    r.target = "";
    r.detail_digest = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    std::string out;
    users::canonical_text(r, out);
    EXPECT_EQ(out,
              "[7, \"2026-03-04T05:06:07\", null, \"a0000000-0000-0000-0000-00000000000a\", \"a\", \"\", "
              "\"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\", null, null]");
    // An empty prev_hash is "", a NULL one null; an empty reason is "".
    r.created_at = "infinity";
    r.tenant.reset();
    r.target = "t";
    r.change_reason = "";
    r.prev_hash = std::string_view();
    r.detail_digest = "1cf2462dbf783967e4408e886e4569a77da29314f99d4e6f78fed80de817b185";
    users::canonical_text(r, out);
    EXPECT_EQ(out, "[7, \"infinity\", null, null, \"a\", \"t\", "
                   "\"1cf2462dbf783967e4408e886e4569a77da29314f99d4e6f78fed80de817b185\", \"\", \"\"]");
}

TEST(Canonical, EachFormHashesItsOwnDetailDigest)
{
    EXPECT_EQ(users::detail_digest_of(2, false), DetailDigest::Digested);
    // A form-2 row never hashes a detail_sha256, even one an owner wrote into it.
    EXPECT_EQ(users::detail_digest_of(2, true), DetailDigest::Digested);
    EXPECT_EQ(users::detail_digest_of(1, false), DetailDigest::Whole);
    EXPECT_EQ(users::detail_digest_of(1, true), DetailDigest::Kept);
}

TEST(Canonical, HexIsLowerCase)
{
    std::string out = "x";
    users::append_hex(out, std::string_view("\x00\xab\xff", 3));
    EXPECT_EQ(out, "x00abff");
}
