// Small conversions between PostgreSQL datums and clinres's C++ types.
#pragma once

#include "clinres/core/uuid.hpp"
#include "clinres/pg/guard.hpp"

#include <cstring>
#include <string>
#include <string_view>

namespace pg {

// Argument i as a uuid (never null: callers are STRICT or check first).
inline clinres::Uuid uuid_arg(FunctionCallInfo fcinfo, int i)
{
    clinres::Uuid u;
    std::memcpy(u.bytes, PG_GETARG_UUID_P(i)->data, 16);
    return u;
}

// Argument i as a text view; detoasting, which can fail, runs under the guard.
inline std::string_view text_arg(FunctionCallInfo fcinfo, int i)
{
    struct varlena *raw = reinterpret_cast<struct varlena *>(DatumGetPointer(PG_GETARG_DATUM(i)));
    text *t = reinterpret_cast<text *>(raw);
    if (VARATT_IS_EXTENDED(raw))
        call([&] { t = pg_detoast_datum_packed(raw); });
    return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

// A text or bytea datum's bytes; detoasting (in the current memory context), which can fail,
// runs under the guard.
inline std::string_view varlena_bytes(Datum d)
{
    struct varlena *raw = reinterpret_cast<struct varlena *>(DatumGetPointer(d));
    struct varlena *v = raw;
    if (VARATT_IS_EXTENDED(raw))
        call([&] { v = pg_detoast_datum_packed(raw); });
    return std::string_view(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
}

// A palloc'd uuid datum.
inline Datum uuid_datum(const clinres::Uuid &u)
{
    pg_uuid_t *out = nullptr;
    call([&] { out = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t))); });
    std::memcpy(out->data, u.bytes, 16);
    return UUIDPGetDatum(out);
}

// A palloc'd text datum.
inline Datum text_datum(const std::string &s)
{
    Datum d = 0;
    call([&] { d = PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size()))); });
    return d;
}

// A palloc'd bytea of the bytes (a file written for the caller); 54000 if too large.
inline Datum bytea_datum(const std::string &bytes)
{
    Datum d = 0;
    call([&] {
        if (bytes.size() > MaxAllocSize - VARHDRSZ)
            ereport(ERROR,
                    (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("the file is too large for a bytea")));
        bytea *b = static_cast<bytea *>(palloc(VARHDRSZ + bytes.size()));
        SET_VARSIZE(b, VARHDRSZ + bytes.size());
        std::memcpy(VARDATA(b), bytes.data(), bytes.size());
        d = PointerGetDatum(b);
    });
    return d;
}

// The canonical text form of a uuid, for messages.
inline std::string to_string(const clinres::Uuid &u)
{
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += hex[u.bytes[i] >> 4];
        out += hex[u.bytes[i] & 15];
    }
    return out;
}

} // namespace pg
