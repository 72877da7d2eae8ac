// HMAC-SHA256 session tokens. The keys live in clinres.session_keys, which only the
// extension's owner can read; they are read as that owner for the length of one
// query. The MAC is PostgreSQL's own (common/hmac.h, OpenSSL when built with it).
#include "clinres/session/signer.hpp"

#include "clinres/pg/guard.hpp"
#include "clinres/pg/spi.hpp"
#include "clinres/session/registry.hpp"

extern "C" {
#include "common/hmac.h"
}

#include <vector>

namespace session {

namespace {

int session_ttl = 8 * 3600; // seconds

struct Key {
    int32_t id = 0;
    std::vector<unsigned char> secret;
};

pg::Statement newest_key{"SELECT k.id, pg_catalog.encode(k.secret, 'hex') FROM clinres.session_keys k"
                         " WHERE k.retired_at IS NULL ORDER BY k.id DESC LIMIT 1",
                         0,
                         {},
                         nullptr};
pg::Statement usable_key{
    "SELECT k.id, pg_catalog.encode(k.secret, 'hex') FROM clinres.session_keys k"
    " WHERE k.id OPERATOR(pg_catalog.=) $1"
    " AND (k.retired_at IS NULL OR k.retired_at OPERATOR(pg_catalog.>) pg_catalog.now())",
    1,
    {INT4OID},
    nullptr};

Oid key_table_owner()
{
    Oid relid = InvalidOid;
    pg::call([&] {
        relid = get_relname_relid("session_keys", get_namespace_oid("clinres", false));
        if (!OidIsValid(relid))
            elog(ERROR, "clinres.session_keys is missing");
    });
    return pg::relation_owner(relid);
}

// The key the statement finds (id 0: none).
Key read_key(pg::Statement &stmt, const Datum *args)
{
    pg::OwnerSpi spi(key_table_owner(), false);
    pg::Rows rows = spi.run(stmt, args);
    spi.finish();
    Key key;
    if (rows.size() == 0)
        return key;
    key.id = static_cast<int32_t>(rows.at(0, 0).num);
    const std::string &hex = rows.at(0, 1).text;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        key.secret.push_back(static_cast<unsigned char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return key;
}

// HMAC-SHA256 of prefix + text under key.
void mac(const Key &key, std::string_view prefix, std::string_view text, unsigned char out[32])
{
    bool ok = false;
    pg::call([&] {
        pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
        ok = ctx != nullptr && pg_hmac_init(ctx, key.secret.data(), key.secret.size()) == 0 &&
             pg_hmac_update(ctx, reinterpret_cast<const uint8 *>(prefix.data()), prefix.size()) == 0 &&
             pg_hmac_update(ctx, reinterpret_cast<const uint8 *>(text.data()), text.size()) == 0 &&
             pg_hmac_final(ctx, out, 32) == 0;
        pg_hmac_free(ctx);
    });
    if (!ok)
        throw pg::Error(ERRCODE_INTERNAL_ERROR, "could not compute the session token's HMAC");
}

int64_t unix_now()
{
    return (GetCurrentTimestamp() / USECS_PER_SEC) +
           (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * static_cast<int64_t>(SECS_PER_DAY);
}

} // namespace

void reject(const std::string &why)
{
    throw pg::Error::denial("session", "token", "invalid session token", why,
                            "Log in again with clinres.login to get a new token.",
                            ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION);
}

void init_signer()
{
    DefineCustomIntVariable("clinres.session_ttl", "How long a session token from clinres.login stays valid.",
                            nullptr, &session_ttl, 8 * 3600, 60, 31 * 24 * 3600, PGC_SUSET, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
}

std::string sign(const Uuid &user, const Uuid &tenant, const Uuid *session, int64_t &expires)
{
    Key key = read_key(newest_key, nullptr);
    if (key.id == 0)
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "clinres has no current session key",
                        "Every key in clinres.session_keys is retired.",
                        "Run SELECT clinres.rotate_session_key(); as the extension's owner.");
    Claims c;
    c.key_id = key.id;
    c.user = user;
    c.tenant = tenant;
    c.expires = unix_now() + session_ttl;
    c.has_session = session != nullptr;
    if (session != nullptr)
        c.session = *session;
    unsigned char out[32];
    mac(key, signed_prefix(c), claims_text(c), out);
    expires = c.expires;
    return token_text(c, out, sizeof out);
}

Claims verify(std::string_view token)
{
    Claims c;
    std::string_view signed_part;
    unsigned char given[32];
    if (!parse_token(token, c, signed_part, given))
        reject("The token is not well formed.");
    Datum arg = Int32GetDatum(c.key_id);
    Key key = read_key(usable_key, &arg);
    if (key.id == 0)
        reject("The token's key is unknown or retired.");
    unsigned char expected[32];
    mac(key, signed_prefix(c), signed_part, expected);
    if (!equal_in_constant_time(expected, given, sizeof expected))
        reject("The token's signature does not match.");
    if (c.expires <= unix_now())
        reject("The token has expired.");
    if (c.has_session)
        require_live(c.session, c.user, c.tenant);
    return c;
}

} // namespace session
