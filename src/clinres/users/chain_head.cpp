// The heads of the audit trail's hash chains as this transaction moves them (docs/compliance.md,
// "How the chain is kept"): the chain trigger (chain_trigger.cpp) asks here for the head (id,
// row_hash) of a chain, claimed from admin_log_chains on its first row in the transaction and
// then kept in memory, and tells each new row; a subtransaction that aborts
// takes its rows' heads back with it; before the commit the final heads are written, once per chain,
// into clinres.admin_log_chains, where the next transaction's writer reads them. So a statement of
// a million rows costs a million lookups in memory, not a million index (or table) scans, and the
// chain row gets one new version per transaction, not one per audit row.
#include "clinres/users/chain_head.hpp"

#include "clinres/pg/compat.hpp"
#include "clinres/pg/guard.hpp"
#include "clinres/pg/spi.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/syscache.h"
}

#include <array>
#include <cstring>
#include <map>
#include <vector>

namespace users {

namespace {

// One head of a chain, as of the subtransaction that set it.
struct Head {
    SubTransactionId subxact;
    ChainHead head;
};

// Per chain, the heads this transaction set, innermost subtransaction last (never empty).
std::map<ChainKey, std::vector<Head>> heads;
LocalTransactionId heads_lxid = InvalidLocalTransactionId;

// The heads of this transaction (emptied when it is another one).
std::map<ChainKey, std::vector<Head>> &current()
{
    if (heads_lxid != pg::local_xid()) {
        heads.clear();
        heads_lxid = pg::local_xid();
    }
    return heads;
}

// Locks the chain's row and returns the head it holds; no row for a chain without one yet. A lock,
// not an update: the row gets its one new version of the transaction before the commit. The
// statements here keep a generic plan: a new connection's first mutations plan none.
pg::Statement lock_sql = {"SELECT c.head_id, c.head_hash FROM clinres.admin_log_chains c"
                          " WHERE c.chain OPERATOR(pg_catalog.=) $1 FOR UPDATE",
                          1,
                          {UUIDOID},
                          nullptr,
                          CURSOR_OPT_GENERIC_PLAN};
// Claims the chain's row, inserting it for a new chain (or taking the one a concurrent writer
// inserted), and returns the head it holds.
pg::Statement claim_sql = {
    "INSERT INTO clinres.admin_log_chains AS c (chain, xact) VALUES ($1, pg_catalog.pg_current_xact_id())"
    " ON CONFLICT ON CONSTRAINT admin_log_chains_pkey DO UPDATE SET xact = excluded.xact"
    " RETURNING c.head_id, c.head_hash",
    1,
    {UUIDOID},
    nullptr,
    CURSOR_OPT_GENERIC_PLAN};

// The owner of clinres.admin_log_chains, or InvalidOid when the table is gone (the extension dropped).
// Plain C: it runs in the commit callback too.
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

// The chain's row claimed as the owner of admin_log_chains; its head, if it has one.
std::optional<ChainHead> claim(const ChainKey &chain)
{
    Oid owner = InvalidOid;
    pg::call([&] { owner = chains_owner(); });
    if (!OidIsValid(owner))
        throw pg::Error(ERRCODE_UNDEFINED_TABLE, "relation \"clinres.admin_log_chains\" does not exist");
    pg_uuid_t key;
    std::memcpy(key.data, chain.data(), chain.size());
    Datum arg = UUIDPGetDatum(&key);
    pg::OwnerSpi spi(owner, false);
    pg::Rows rows = spi.run(lock_sql, &arg, nullptr, true);
    if (rows.size() == 0)
        rows = spi.run(claim_sql, &arg, nullptr, true);
    spi.finish();
    if (rows.size() != 1)
        throw pg::Error(ERRCODE_INTERNAL_ERROR, "claiming an audit chain returned no row");
    const pg::Cell &id = rows.at(0, 0), &hash = rows.at(0, 1);
    if (id.null || hash.null)
        return std::nullopt;
    if (hash.text.size() != RowHash().size())
        throw pg::Error(ERRCODE_DATA_CORRUPTED, "the head_hash of an audit chain is not 32 bytes");
    ChainHead h{id.num, {}};
    std::memcpy(h.hash.data(), hash.text.data(), h.hash.size());
    return h;
}

} // namespace

std::optional<ChainHead> chain_head(const ChainKey &chain)
{
    auto &h = current();
    auto it = h.find(chain);
    if (it != h.end())
        return it->second.back().head;
    return claim(chain);
}

void set_chain_head(const ChainKey &chain, const ChainHead &head)
{
    Head h{GetCurrentSubTransactionId(), head};
    std::vector<Head> &stack = current()[chain];
    if (!stack.empty() && stack.back().subxact == h.subxact)
        stack.back() = h;
    else
        stack.push_back(h);
}

namespace {

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

// Writes the heads (n chains, ids, hashes: palloc'd) into clinres.admin_log_chains as its owner,
// one row each (usually one or two: a statement per chain costs less than one joining arrays).
// Plain C on purpose: an error here longjmps out of the commit callback, past no C++ object.
void write_heads(Oid owner, int n, Datum *chains, Datum *ids, Datum *hashes)
{
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(owner,
                           saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    PushActiveSnapshot(GetTransactionSnapshot());
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    static SPIPlanPtr plan = nullptr;
    static const Oid types[3] = {UUIDOID, INT8OID, BYTEAOID};
    pg::kept_plan(plan,
                  "UPDATE clinres.admin_log_chains c SET head_id = $2, head_hash = $3,"
                  " xact = pg_catalog.pg_current_xact_id() WHERE c.chain OPERATOR(pg_catalog.=) $1",
                  3, types, CURSOR_OPT_GENERIC_PLAN);
    for (int i = 0; i < n; ++i) {
        Datum args[3] = {chains[i], ids[i], hashes[i]};
        int rc = SPI_execute_plan(plan, args, nullptr, false, 0);
        if (rc != SPI_OK_UPDATE)
            elog(ERROR, "writing the audit chains' heads failed: %s", SPI_result_code_string(rc));
    }
    SPI_finish();
    PopActiveSnapshot();
    SetUserIdAndSecContext(saved_user, saved_context);
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
        std::memcpy(VARDATA(b), stack.back().head.hash.data(), 32);
        chains[i] = UUIDPGetDatum(u);
        ids[i] = Int64GetDatum(stack.back().head.id);
        hashes[i] = PointerGetDatum(b);
        ++i;
    }
    heads.clear();
    Oid owner = chains_owner();
    if (!OidIsValid(owner))
        return;
    write_heads(owner, n, chains, ids, hashes);
}

} // namespace

void init_chain_heads()
{
    RegisterXactCallback(on_transaction, nullptr);
    RegisterSubXactCallback(on_subtransaction, nullptr);
}

} // namespace users
