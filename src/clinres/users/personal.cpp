// The personal fields of an audit row's detail (docs/compliance.md, "Erasure"): the values of the
// keys email, name, phone and identifier, at any depth. The chain (canonical form 2) covers their
// digests, SHA-256 of the row's salt and the value (a string's text, else its jsonb text), never
// the values; erase_user replaces each value by {"erased": "<its digest>"}, so that the row still
// hashes the same.
#include "clinres/core/sha256.hpp"

#include "clinres/users/personal.hpp"

#include "clinres/pg/guard.hpp"

namespace users {

namespace {

constexpr int kDigestLen = 32;
constexpr int kSaltLen = 16;

// Whether an object key names a personal field.
bool personal_key(const JsonbValue &k)
{
    static const char *const keys[] = {"email", "name", "phone", "identifier"};
    for (const char *key : keys)
        if (static_cast<size_t>(k.val.string.len) == strlen(key) &&
            memcmp(k.val.string.val, key, k.val.string.len) == 0)
            return true;
    return false;
}

// SHA-256 of salt then data, in lower-case hex (65 bytes with the NUL). No C++ object outlives it.
void digest_hex(const bytea *salt, const char *data, size_t len, char *hex)
{
    std::array<uint8_t, 32> out;
    if (!clinres::sha256(VARDATA_ANY(salt), VARSIZE_ANY_EXHDR(salt), data, len, out))
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory computing a SHA-256 digest")));
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < kDigestLen; ++i) {
        hex[2 * i] = digits[out[i] >> 4];
        hex[2 * i + 1] = digits[out[i] & 15];
    }
    hex[2 * kDigestLen] = '\0';
}

// The digest an erasure left in v ({"erased": "<64 hex>"}), or null when v is no such marker.
const char *erased_digest(const JsonbValue &v)
{
    if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data) ||
        JsonContainerSize(v.val.binary.data) != 1)
        return nullptr;
    JsonbValue *d = getKeyJsonValueFromContainer(v.val.binary.data, "erased", 6, nullptr);
    if (!d || d->type != jbvString || d->val.string.len != 2 * kDigestLen)
        return nullptr;
    return pnstrdup(d->val.string.val, d->val.string.len);
}

// The digest of a personal value: the one its erasure left, or SHA-256 of salt and its jsonb text.
const char *value_digest(const JsonbValue &v, const bytea *salt)
{
    if (const char *kept = erased_digest(v))
        return kept;
    const char *text;
    size_t len;
    if (v.type == jbvString) {
        text = v.val.string.val;
        len = v.val.string.len;
    } else {
        Jsonb *one = JsonbValueToJsonb(const_cast<JsonbValue *>(&v));
        text = JsonbToCString(nullptr, &one->root, VARSIZE(one));
        len = strlen(text);
    }
    char *hex = static_cast<char *>(palloc(2 * kDigestLen + 1));
    digest_hex(salt, text, len, hex);
    return hex;
}

enum class Mode { Digest, Erase };

// Pushes container c onto state with each personal value replaced: by "sha256:<digest>" (Digest),
// or by {"erased": "<digest>"} (Erase). Plain C on purpose: it runs inside one pg::call.
JsonbValue *push_replaced(JsonbParseState **state, JsonbContainer *c, const bytea *salt, Mode mode)
{
    JsonbIterator *it = JsonbIteratorInit(c);
    JsonbValue v, *res = nullptr;
    JsonbIteratorToken tok;
    bool personal = false;
    while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
        if (tok == WJB_KEY) {
            personal = personal_key(v);
            res = pushJsonbValue(state, tok, &v);
        } else if (tok == WJB_VALUE && personal && v.type != jbvNull) {
            const char *hex = value_digest(v, salt);
            if (mode == Mode::Digest) {
                JsonbValue s;
                s.type = jbvString;
                s.val.string.val = psprintf("sha256:%s", hex);
                s.val.string.len = static_cast<int>(strlen(s.val.string.val));
                res = pushJsonbValue(state, WJB_VALUE, &s);
            } else {
                // Without a salt (a row of form 1, which hashes its detail's kept digest instead)
                // the marker keeps no digest: an unsalted one would let anyone test a guess.
                JsonbValue k, s;
                k.type = jbvString;
                k.val.string.val = const_cast<char *>("erased");
                k.val.string.len = 6;
                if (VARSIZE_ANY_EXHDR(salt) == 0 && !erased_digest(v)) {
                    s.type = jbvBool;
                    s.val.boolean = true;
                } else {
                    s.type = jbvString;
                    s.val.string.val = const_cast<char *>(hex);
                    s.val.string.len = 2 * kDigestLen;
                }
                pushJsonbValue(state, WJB_BEGIN_OBJECT, nullptr);
                pushJsonbValue(state, WJB_KEY, &k);
                pushJsonbValue(state, WJB_VALUE, &s);
                res = pushJsonbValue(state, WJB_END_OBJECT, nullptr);
            }
        } else if ((tok == WJB_VALUE || tok == WJB_ELEM) && v.type == jbvBinary) {
            res = push_replaced(state, v.val.binary.data, salt, mode);
        } else {
            // A container's begin and end go without a value, but for the raw-scalar mark of a
            // bare scalar's array (pushJsonbValue asserts it is set on any array begin given one).
            bool bare = tok == WJB_BEGIN_OBJECT || tok == WJB_END_OBJECT || tok == WJB_END_ARRAY ||
                        (tok == WJB_BEGIN_ARRAY && !v.val.array.rawScalar);
            res = pushJsonbValue(state, tok, bare ? nullptr : &v);
        }
    }
    return res;
}

// detail with its personal values replaced, as a new jsonb.
Datum replaced(FunctionCallInfo fcinfo, Mode mode)
{
    Datum out = 0;
    pg::call([&] {
        Jsonb *detail = PG_GETARG_JSONB_P(0);
        const bytea *salt = PG_GETARG_BYTEA_PP(1);
        JsonbParseState *state = nullptr;
        out = JsonbPGetDatum(JsonbValueToJsonb(push_replaced(&state, &detail->root, salt, mode)));
    });
    return out;
}

// clinres._admin_log_digested(detail jsonb, salt bytea) -> jsonb: what canonical form 2 hashes.
Datum digested(FunctionCallInfo fcinfo)
{
    return replaced(fcinfo, Mode::Digest);
}

// clinres._admin_log_erased(detail jsonb, salt bytea) -> jsonb: detail as erase_user leaves it.
Datum erased(FunctionCallInfo fcinfo)
{
    return replaced(fcinfo, Mode::Erase);
}

} // namespace

bool has_personal_key(Jsonb *detail)
{
    JsonbIterator *it = JsonbIteratorInit(&detail->root);
    JsonbValue v;
    JsonbIteratorToken tok;
    while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
        if (tok == WJB_KEY && personal_key(v))
            return true;
    return false;
}

Jsonb *digested_detail(Jsonb *detail, const bytea *salt)
{
    JsonbParseState *state = nullptr;
    return JsonbValueToJsonb(push_replaced(&state, &detail->root, salt, Mode::Digest));
}

Datum new_salt()
{
    bytea *b = nullptr;
    bool ok = false;
    pg::call([&] {
        b = static_cast<bytea *>(palloc(VARHDRSZ + kSaltLen));
        SET_VARSIZE(b, VARHDRSZ + kSaltLen);
        ok = pg_strong_random(VARDATA(b), kSaltLen);
    });
    if (!ok)
        throw pg::Error(ERRCODE_INTERNAL_ERROR, "could not generate random bytes for an audit row's salt");
    return PointerGetDatum(b);
}

} // namespace users

CLINRES_FUNCTION(clinres_admin_log_digested, users::digested)
CLINRES_FUNCTION(clinres_admin_log_erased, users::erased)
