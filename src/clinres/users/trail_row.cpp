// An admin_logs row read for its canonical form; see trail_row.hpp. Also
// clinres._admin_log_canonical_of(row), the canonical text for the export and for inspectors.
#include "clinres/core/sha256.hpp"
#include "clinres/users/canonical.hpp"

#include "clinres/users/trail_row.hpp"

#include "clinres/pg/datum.hpp"
#include "clinres/users/personal.hpp"

extern "C" {
#include "access/htup_details.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/typcache.h"
}

#include <cstring>
#include <new>

namespace users {

namespace {

const char *const kColumnNames[kTrailColumns] = {
    "id",           "created_at", "actor_id",      "tenant_id", "action",
    "target",       "detail",     "change_reason", "prev_hash", "row_hash",
    "hash_version", "salt",       "detail_sha256"};

// Column i of the deformed tuple as optional bytes (a text or bytea).
std::optional<std::string_view> optional_bytes(const Datum *values, const bool *nulls, int i)
{
    if (nulls[i])
        return std::nullopt;
    return pg::varlena_bytes(values[i]);
}

// Column i of the deformed tuple as an optional uuid's 16 bytes.
std::optional<std::string_view> optional_uuid(const Datum *values, const bool *nulls, int i)
{
    if (nulls[i])
        return std::nullopt;
    return std::string_view(reinterpret_cast<const char *>(DatumGetUUIDP(values[i])->data), UUID_LEN);
}

} // namespace

TrailRow::TrailRow(TupleDesc desc)
{
    for (int c = 0; c < kTrailColumns; ++c) {
        index_[c] = -1;
        for (int i = 0; i < desc->natts; ++i) {
            Form_pg_attribute a = TupleDescAttr(desc, i);
            if (!a->attisdropped && std::strcmp(NameStr(a->attname), kColumnNames[c]) == 0) {
                index_[c] = i;
                break;
            }
        }
        if (index_[c] < 0)
            throw pg::Error(ERRCODE_UNDEFINED_COLUMN,
                            std::string("an audit row has no column \"") + kColumnNames[c] + "\"");
    }
}

void TrailRow::hash(const Datum *values, const bool *nulls, std::string &text, std::array<uint8_t, 32> &hash)
{
    CanonicalRow r;
    r.version = nulls[at(kVersion)] ? 1 : DatumGetInt16(values[at(kVersion)]);
    r.id = DatumGetInt64(values[at(kId)]);
    char time[MAXDATELEN + 1];
    if (nulls[at(kCreatedAt)])
        throw pg::Error(ERRCODE_NOT_NULL_VIOLATION, "an audit row's created_at is NULL");
    pg::call([&] { JsonEncodeDateTime(time, values[at(kCreatedAt)], TIMESTAMPOID, nullptr); });
    r.created_at = time;
    r.actor = optional_uuid(values, nulls, at(kActor));
    r.tenant = optional_uuid(values, nulls, at(kTenant));
    r.action = optional_bytes(values, nulls, at(kAction));
    r.target = optional_bytes(values, nulls, at(kTarget));
    r.change_reason = optional_bytes(values, nulls, at(kReason));
    r.prev_hash = optional_bytes(values, nulls, at(kPrevHash));
    DetailDigest how = detail_digest_of(r.version, !nulls[at(kDetailSha256)]);
    digest_.clear();
    if (how == DetailDigest::Kept) {
        append_hex(digest_, pg::varlena_bytes(values[at(kDetailSha256)]));
    } else {
        if (nulls[at(kDetail)])
            throw pg::Error(ERRCODE_NOT_NULL_VIOLATION, "an audit row's detail is NULL");
        const char *json = nullptr;
        Datum detail = values[at(kDetail)];
        Datum salt = nulls[at(kSalt)] ? Datum(0) : values[at(kSalt)];
        pg::call([&] {
            Jsonb *j = DatumGetJsonbP(detail);
            if (how == DetailDigest::Digested && has_personal_key(j)) {
                bytea *s = salt != 0 ? DatumGetByteaPP(salt) : nullptr;
                if (s == nullptr) { // an erased row's: no salt
                    s = static_cast<bytea *>(palloc(VARHDRSZ));
                    SET_VARSIZE(s, VARHDRSZ);
                }
                j = digested_detail(j, s);
            }
            json = JsonbToCString(nullptr, &j->root, VARSIZE(j));
        });
        std::array<uint8_t, 32> d;
        if (!clinres::sha256(json, std::strlen(json), nullptr, 0, d))
            throw std::bad_alloc();
        append_hex(digest_, std::string_view(reinterpret_cast<const char *>(d.data()), d.size()));
    }
    r.detail_digest = digest_;
    canonical_text(r, text);
    if (!clinres::sha256(text.data(), text.size(), nullptr, 0, hash))
        throw std::bad_alloc();
}

namespace {

// clinres._admin_log_canonical_of(l admin_logs) -> text: the canonical text of the row in its form.
Datum canonical_of(FunctionCallInfo fcinfo)
{
    TupleDesc desc = nullptr;
    Datum *values = nullptr;
    bool *nulls = nullptr;
    pg::call([&] {
        HeapTupleHeader h = PG_GETARG_HEAPTUPLEHEADER(0);
        desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(h), HeapTupleHeaderGetTypMod(h));
        HeapTupleData tuple;
        tuple.t_len = HeapTupleHeaderGetDatumLength(h);
        ItemPointerSetInvalid(&tuple.t_self);
        tuple.t_tableOid = InvalidOid;
        tuple.t_data = h;
        values = static_cast<Datum *>(palloc(sizeof(Datum) * desc->natts));
        nulls = static_cast<bool *>(palloc(sizeof(bool) * desc->natts));
        heap_deform_tuple(&tuple, desc, values, nulls);
    });
    std::string text;
    std::array<uint8_t, 32> hash;
    try {
        TrailRow row(desc);
        row.hash(values, nulls, text, hash);
    } catch (...) {
        ReleaseTupleDesc(desc);
        throw;
    }
    ReleaseTupleDesc(desc);
    return pg::text_datum(text);
}

} // namespace

} // namespace users

CLINRES_FUNCTION(clinres_admin_log_canonical_of, users::canonical_of)
