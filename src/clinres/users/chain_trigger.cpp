// The chain trigger of clinres.admin_logs (docs/users.md, "The audit trail"), BEFORE INSERT FOR
// EACH ROW: records the transaction's change reason, takes the chain's head (chain_head.cpp: from
// memory, or claimed from admin_log_chains on the chain's first row in the transaction), gives the
// row an id above the head (a writer of the chain may have committed a higher one while this one
// waited), a salt, form 2, prev_hash and row_hash (the SHA-256 of its canonical form,
// trail_row.cpp), and makes it the chain's new head. O(1) per row: no scan of admin_logs. A row
// that arrives with its hashes (pg_restore of the table) is kept as it is; verify_admin_logs
// judges it. Not SECURITY DEFINER: the claim runs as the chains' owner (chain_head.cpp).
#include "clinres/users/canonical.hpp"

#include "clinres/users/chain_head.hpp"
#include "clinres/users/personal.hpp"
#include "clinres/users/trail.hpp"
#include "clinres/users/trail_row.hpp"

#include "clinres/pg/datum.hpp"

extern "C" {
#include "access/htup_details.h"
#include "commands/sequence.h"
}

#include <cstring>

namespace users {

namespace {

constexpr int kFormTwo = 2;

// The id of clinres.admin_logs_id_seq. Under pg::call.
Oid id_sequence()
{
    Oid ns = get_namespace_oid("clinres", false);
    Oid seq = get_relname_relid("admin_logs_id_seq", ns);
    if (!OidIsValid(seq))
        elog(ERROR, "relation \"clinres.admin_logs_id_seq\" does not exist");
    return seq;
}

// A palloc'd bytea of the bytes.
Datum bytea_of(const unsigned char *bytes, std::size_t len)
{
    bytea *b = nullptr;
    pg::call([&] { b = static_cast<bytea *>(palloc(VARHDRSZ + len)); });
    SET_VARSIZE(b, VARHDRSZ + len);
    std::memcpy(VARDATA(b), bytes, len);
    return PointerGetDatum(b);
}

// clinres._admin_log_chain() RETURNS trigger: chains the new admin_logs row.
Datum chain(FunctionCallInfo fcinfo)
{
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "clinres._admin_log_chain() is a trigger");
    TriggerData *td = reinterpret_cast<TriggerData *>(fcinfo->context);
    if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
        !TRIGGER_FIRED_BY_INSERT(td->tg_event))
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "clinres._admin_log_chain() must fire BEFORE INSERT FOR EACH ROW");
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    TrailRow row(desc);
    Datum *values = nullptr;
    bool *nulls = nullptr, *replace = nullptr;
    pg::call([&] {
        values = static_cast<Datum *>(palloc(sizeof(Datum) * desc->natts));
        nulls = static_cast<bool *>(palloc(sizeof(bool) * desc->natts));
        replace = static_cast<bool *>(palloc0(sizeof(bool) * desc->natts));
        heap_deform_tuple(td->tg_trigtuple, desc, values, nulls);
    });
    if (!nulls[row.at(kRowHash)] && !nulls[row.at(kPrevHash)])
        return PointerGetDatum(td->tg_trigtuple);
    // Sets column c of the new row.
    auto set = [&](TrailColumn c, Datum value, bool null) {
        values[row.at(c)] = value;
        nulls[row.at(c)] = null;
        replace[row.at(c)] = true;
    };
    if (nulls[row.at(kReason)]) {
        std::optional<std::string> reason = change_reason_for_row();
        if (reason)
            set(kReason, pg::text_datum(*reason), false);
    }
    ChainKey key{};
    if (!nulls[row.at(kTenant)])
        std::memcpy(key.data(), DatumGetUUIDP(values[row.at(kTenant)])->data, key.size());
    std::optional<ChainHead> head = chain_head(key);
    int64 id = DatumGetInt64(values[row.at(kId)]);
    if (head && id <= head->id) {
        pg::call([&] { id = nextval_internal(id_sequence(), false); });
        set(kId, Int64GetDatum(id), false);
    }
    RowHash prev{};
    if (head)
        prev = head->hash;
    set(kPrevHash, bytea_of(prev.data(), prev.size()), false);
    set(kVersion, Int16GetDatum(kFormTwo), false);
    set(kSalt, new_salt(), false);
    set(kDetailSha256, Datum(0), true);
    std::string text;
    RowHash hash;
    row.hash(values, nulls, text, hash);
    set(kRowHash, bytea_of(hash.data(), hash.size()), false);
    set_chain_head(key, ChainHead{id, hash});
    HeapTuple out = nullptr;
    pg::call([&] { out = heap_modify_tuple(td->tg_trigtuple, desc, values, nulls, replace); });
    return PointerGetDatum(out);
}

} // namespace

} // namespace users

CLINRES_FUNCTION(clinres_admin_log_chain, users::chain)
