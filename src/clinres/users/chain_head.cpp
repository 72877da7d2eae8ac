// The heads of the audit trail's hash chains as this transaction moves them (docs/compliance.md,
// "How the chain is kept"): the chain trigger asks here for the head (id, row_hash) of a chain it
// has already claimed in this transaction, and tells each new row; a subtransaction that aborts
// takes its rows' heads back with it; before the commit the final heads are written, once per chain,
// into clinres.admin_log_chains, where the next transaction's writer reads them. So a statement of
// a million rows costs a million lookups in memory, not a million index (or table) scans, and the
// chain row gets one new version per transaction, not one per audit row.
#include "clinres/users/chain_head.hpp"

#include "clinres/pg/compat.hpp"
#include "clinres/pg/guard.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/array.h"
#include "utils/syscache.h"
}

#include <array>
#include <cstring>
#include <map>
#include <vector>

namespace users {

namespace {

using Key = std::array<unsigned char, 16>;

// One head of a chain, as of the subtransaction that set it.
struct Head {
    SubTransactionId subxact;
    int64 id;
    std::array<unsigned char, 32> hash;
};

// Per chain, the heads this transaction set, innermost subtransaction last (never empty).
std::map<Key, std::vector<Head>> heads;
LocalTransactionId heads_lxid = InvalidLocalTransactionId;

Key key_arg(FunctionCallInfo fcinfo, int i)
{
    Key k;
    std::memcpy(k.data(), PG_GETARG_UUID_P(i)->data, 16);
    return k;
}

// The heads of this transaction (emptied when it is another one).
std::map<Key, std::vector<Head>> &current()
{
    if (heads_lxid != pg::local_xid()) {
        heads.clear();
        heads_lxid = pg::local_xid();
    }
    return heads;
}

// The head this transaction gave the chain, or null when it has given none.
const Head *find(const Key &k)
{
    auto &h = current();
    auto it = h.find(k);
    return it == h.end() ? nullptr : &it->second.back();
}

// clinres._admin_log_head_id(chain uuid) -> bigint: the id of the chain's head set in this transaction, or
// NULL.
Datum head_id(FunctionCallInfo fcinfo)
{
    const Head *h = find(key_arg(fcinfo, 0));
    if (!h) {
        fcinfo->isnull = true;
        return Datum(0);
    }
    return Int64GetDatum(h->id);
}

// clinres._admin_log_head_hash(chain uuid) -> bytea: the row_hash of that head, or NULL.
Datum head_hash(FunctionCallInfo fcinfo)
{
    const Head *h = find(key_arg(fcinfo, 0));
    if (!h) {
        fcinfo->isnull = true;
        return Datum(0);
    }
    bytea *out = nullptr;
    pg::call([&] { out = static_cast<bytea *>(palloc(VARHDRSZ + 32)); });
    SET_VARSIZE(out, VARHDRSZ + 32);
    std::memcpy(VARDATA(out), h->hash.data(), 32);
    return PointerGetDatum(out);
}

// clinres._admin_log_set_head(chain uuid, id bigint, row_hash bytea) -> boolean: the chain's new head
// (its row just chained); the chain must have been claimed in this transaction.
Datum set_head(FunctionCallInfo fcinfo)
{
    Key k = key_arg(fcinfo, 0);
    int64 id = PG_GETARG_INT64(1);
    struct varlena *raw = reinterpret_cast<struct varlena *>(DatumGetPointer(PG_GETARG_DATUM(2)));
    bytea *b = reinterpret_cast<bytea *>(raw);
    if (VARATT_IS_EXTENDED(raw))
        pg::call([&] { b = pg_detoast_datum_packed(raw); });
    if (VARSIZE_ANY_EXHDR(b) != 32)
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "a row_hash is 32 bytes");
    Head h{GetCurrentSubTransactionId(), id, {}};
    std::memcpy(h.hash.data(), VARDATA_ANY(b), 32);
    std::vector<Head> &stack = current()[k];
    if (!stack.empty() && stack.back().subxact == h.subxact)
        stack.back() = h;
    else
        stack.push_back(h);
    return BoolGetDatum(true);
}

// An aborted subtransaction's heads are gone; a committed one's belong to its parent.
void on_subtransaction(SubXactEvent event, SubTransactionId mine, SubTransactionId parent, void *)
{
    if (heads.empty() || heads_lxid != pg::local_xid())
        return;
    if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
        return;
    for (auto it = heads.begin(); it != heads.end();) {
        std::vector<Head> &stack = it->second;
        if (event == SUBXACT_EVENT_ABORT_SUB) {
            // Every subtransaction begun after `mine` and still known is one of its children.
            while (!stack.empty() && stack.back().subxact >= mine)
                stack.pop_back();
        } else if (stack.back().subxact == mine) {
            stack.back().subxact = parent;
            if (stack.size() > 1 && stack[stack.size() - 2].subxact == parent)
                stack.erase(stack.end() - 2);
        }
        it = stack.empty() ? heads.erase(it) : std::next(it);
    }
}

// Writes the heads (palloc'd arrays of n chains) into clinres.admin_log_chains as its owner. Plain C
// on purpose: an error here longjmps out of the commit callback, past no C++ object.
void write_heads(Oid owner, Datum chains, Datum ids, Datum hashes)
{
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(owner,
                           saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    PushActiveSnapshot(GetTransactionSnapshot());
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    // Prepared once per backend (the plan cache replans it after DDL).
    static SPIPlanPtr plan = nullptr;
    if (plan == nullptr) {
        Oid types[3] = {UUIDARRAYOID, INT8ARRAYOID, BYTEAARRAYOID};
        SPIPlanPtr p = SPI_prepare("UPDATE clinres.admin_log_chains c SET head_id = h.id, head_hash = h.hash"
                                   "  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
                                   " pg_catalog.unnest($3)) h(chain, id, hash)"
                                   " WHERE c.chain OPERATOR(pg_catalog.=) h.chain",
                                   3, types);
        if (p == nullptr)
            elog(ERROR, "preparing the audit chains' head update failed: %s",
                 SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        plan = p;
    }
    Datum args[3] = {chains, ids, hashes};
    int rc = SPI_execute_plan(plan, args, nullptr, false, 0);
    if (rc != SPI_OK_UPDATE)
        elog(ERROR, "writing the audit chains' heads failed: %s", SPI_result_code_string(rc));
    SPI_finish();
    PopActiveSnapshot();
    SetUserIdAndSecContext(saved_user, saved_context);
}

// The owner of clinres.admin_log_chains, or InvalidOid when the table is gone (the extension dropped).
Oid chains_owner()
{
    Oid ns = get_namespace_oid("clinres", true);
    Oid rel = OidIsValid(ns) ? get_relname_relid("admin_log_chains", ns) : InvalidOid;
    if (!OidIsValid(rel))
        return InvalidOid;
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
    if (!HeapTupleIsValid(tup))
        return InvalidOid;
    Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup))->relowner;
    ReleaseSysCache(tup);
    return owner;
}

// Before a commit (or PREPARE): the transaction's final heads into the chains' table; after it, forgotten.
void on_transaction(XactEvent event, void *)
{
    if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PRE_PREPARE) {
        heads.clear();
        return;
    }
    if (heads.empty() || heads_lxid != pg::local_xid())
        return;
    int n = static_cast<int>(heads.size());
    Datum *chains = static_cast<Datum *>(palloc(sizeof(Datum) * n));
    Datum *ids = static_cast<Datum *>(palloc(sizeof(Datum) * n));
    Datum *hashes = static_cast<Datum *>(palloc(sizeof(Datum) * n));
    int i = 0;
    for (const auto &[k, stack] : heads) {
        pg_uuid_t *u = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
        std::memcpy(u->data, k.data(), 16);
        bytea *b = static_cast<bytea *>(palloc(VARHDRSZ + 32));
        SET_VARSIZE(b, VARHDRSZ + 32);
        std::memcpy(VARDATA(b), stack.back().hash.data(), 32);
        chains[i] = UUIDPGetDatum(u);
        ids[i] = Int64GetDatum(stack.back().id);
        hashes[i] = PointerGetDatum(b);
        ++i;
    }
    heads.clear();
    Oid owner = chains_owner();
    if (!OidIsValid(owner))
        return;
    write_heads(owner, PointerGetDatum(construct_array(chains, n, UUIDOID, 16, false, TYPALIGN_CHAR)),
                PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
                PointerGetDatum(construct_array(hashes, n, BYTEAOID, -1, false, TYPALIGN_INT)));
}

} // namespace

void init_chain_heads()
{
    RegisterXactCallback(on_transaction, nullptr);
    RegisterSubXactCallback(on_subtransaction, nullptr);
}

} // namespace users

CLINRES_FUNCTION(clinres_admin_log_head_id, users::head_id)
CLINRES_FUNCTION(clinres_admin_log_head_hash, users::head_hash)
CLINRES_FUNCTION(clinres_admin_log_set_head, users::set_head)
