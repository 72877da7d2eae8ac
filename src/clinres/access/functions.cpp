// SQL entry points of the module-access engine (docs/reference.md, "Module access").
#include "clinres/access/cache.hpp"
#include "clinres/access/context.hpp"
#include "clinres/pg/datum.hpp"
#include "clinres/pg/srf.hpp"

#include <algorithm>
#include <cmath>

namespace {

using modaccess::Key;

TimestampTz now()
{
    return GetCurrentTransactionStartTimestamp();
}

// One answer remembered by a has_module call site, for one statement and snapshot.
struct Decision {
    Key key;
    uint64_t epoch; // the statement and snapshot it belongs to (0: empty)
    int64_t until;
};

// Memo tables hold at most kMaxDecisions (3 MB) and at least kMinDecisions.
constexpr uint32_t kMinDecisions = 256;
constexpr uint32_t kMaxDecisions = 65536;
// Bits of the sketch that counts the distinct pairs a call site meets (8 kB).
constexpr uint32_t kSketchBits = 65536;
// Misses answered by the "last" entry alone before the sketch starts counting.
constexpr uint64_t kFewMisses = 256;
// Counted misses at which the sketch is read: each power of two from the first to the last.
constexpr uint64_t kFirstCount = 4096;
constexpr uint64_t kLastCount = kMaxDecisions;

// What a has_module call site remembers between rows: the module code it resolved
// (valid while the globals it came from are current) and, once a scan has asked
// about many different (user, tenant) pairs that repeat, a table of this statement's
// answers, so that a repeated pair costs one probe instead of two cache lookups. How
// many distinct pairs there are is counted first (a sketch of the misses): a table
// sized for them is made when they repeat and fit, none when they would not (a
// probe out of L2 that misses, then the two lookups anyway, costs more than it saves).
// A full table that answers less than 3 rows in 4 is dropped. Both choices last
// until the next generation.
struct HasModuleMemo {
    uint64_t generation;
    const modaccess::Globals *globals;
    int module;
    int code_len;
    char code[NAMEDATALEN];
    uint64_t misses;     // answers not found in the memo, since the last choice
    uint64_t table_hits; // answers found in the table since it was last judged
    bool gave_up;        // no table for the rest of this generation
    uint64_t *sketch;    // kSketchBits bits, one set for each miss's pair hash, or null
    uint32_t table_size; // 0 while there is no table
    Decision *table;     // table_size decisions, in fn_mcxt
    Decision last;       // the last answer, when there is no table
};

// Whether memo was resolved for this module code.
bool same_code(const HasModuleMemo *memo, std::string_view code)
{
    return static_cast<size_t>(memo->code_len) == code.size() &&
           std::memcmp(memo->code, code.data(), code.size()) == 0;
}

// Whether memo resolved this module code and is still current.
bool memo_knows_code(const HasModuleMemo *memo, std::string_view code)
{
    return memo != nullptr && memo->generation == modaccess::generation() && same_code(memo, code);
}

// A hash of key's pair, for the memo table and the sketch.
size_t pair_hash(const Key &key)
{
    return modaccess::UuidHash()(key.user) ^ (modaccess::UuidHash()(key.tenant) * 0x9e3779b97f4a7c15ULL);
}

// The two places (a 2-way set of the table, or twice the "last" entry) where key's
// decision may live.
Decision *decision_set(HasModuleMemo *memo, const Key &key)
{
    if (memo->table_size == 0)
        return &memo->last;
    size_t h = pair_hash(key);
    return &memo->table[(h & (memo->table_size / 2 - 1)) * 2];
}

// This statement's decision for key, or null.
const Decision *find_decision(HasModuleMemo *memo, const Key &key, uint64_t epoch)
{
    Decision *set = decision_set(memo, key);
    int ways = memo->table_size == 0 ? 1 : 2;
    for (int w = 0; w < ways; ++w)
        if (set[w].epoch == epoch && set[w].key == key)
            return &set[w];
    return nullptr;
}

// Remembers key's decision, the newest first in its set.
void store_decision(HasModuleMemo *memo, const Decision &d)
{
    Decision *set = decision_set(memo, d.key);
    if (memo->table_size != 0)
        set[1] = set[0];
    set[0] = d;
}

// Gives memo an empty table of n decisions (allocated in the call site's context).
void resize_table(FunctionCallInfo fcinfo, HasModuleMemo *memo, uint32_t n)
{
    Decision *table = nullptr;
    pg::call([&] {
        table =
            static_cast<Decision *>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(Decision) * n));
    });
    if (memo->table != nullptr)
        pfree(memo->table);
    memo->table = table;
    memo->table_size = n;
}

// Drops memo's table and sketch; with give_up, no table until the next generation.
void drop_table(HasModuleMemo *memo, bool give_up)
{
    if (memo->table != nullptr)
        pfree(memo->table);
    if (memo->sketch != nullptr)
        pfree(memo->sketch);
    memo->table = nullptr;
    memo->sketch = nullptr;
    memo->table_size = 0;
    memo->misses = 0;
    memo->table_hits = 0;
    memo->gave_up = give_up;
}

// Before memo is pointed at (maybe) another code or generation: answers and choices
// for another module code or an older generation are dropped; a plain miss of the
// underlying cache keeps them.
void forget_stale_answers(HasModuleMemo *memo, std::string_view code)
{
    if (!same_code(memo, code) || memo->generation != modaccess::generation())
        drop_table(memo, false);
}

// The smallest power of two of at least n decisions, within the table bounds.
uint32_t table_size_for(double n)
{
    uint32_t size = kMinDecisions;
    while (size < kMaxDecisions && size < n)
        size *= 2;
    return size;
}

// Without a table: sets the sketch's bit of key's pair and, at each power of two from
// kFirstCount to kLastCount counted misses, estimates the distinct pairs (linear counting). More
// than half a full table holds: no table. Fewer than 3 in 4 of the misses (the pairs
// repeat), or the last count: a table of four times their number (its 2-way sets then
// rarely overflow, which under a scan's cyclic order would miss on every visit).
void count_pairs(FunctionCallInfo fcinfo, HasModuleMemo *memo, const Key &key)
{
    if (memo->misses <= kFewMisses)
        return;
    if (memo->sketch == nullptr)
        pg::call([&] {
            memo->sketch =
                static_cast<uint64_t *>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, kSketchBits / 8));
        });
    size_t h = pair_hash(key);
    uint32_t bit = static_cast<uint32_t>(h >> 32) & (kSketchBits - 1);
    memo->sketch[bit / 64] |= uint64_t(1) << (bit % 64);
    uint64_t counted = memo->misses - kFewMisses;
    // The last count always chooses (a table or none), so counting never goes past it.
    if (counted < kFirstCount || (counted & (counted - 1)) != 0)
        return;
    uint32_t set = 0;
    for (uint32_t w = 0; w < kSketchBits / 64; ++w)
        set += static_cast<uint32_t>(__builtin_popcountll(memo->sketch[w]));
    double distinct =
        set == kSketchBits ? 1e18 : -double(kSketchBits) * std::log1p(-double(set) / kSketchBits);
    if (distinct > kMaxDecisions / 2.0) {
        drop_table(memo, true);
    } else if (distinct < 0.75 * double(counted) || counted == kLastCount) {
        drop_table(memo, false);
        resize_table(fcinfo, memo, table_size_for(4 * distinct));
    }
}

// After a miss of the memo: without a table, counts the pairs to choose one; with one,
// grows it (x4) when it misses more than it holds; a full table is judged every 4
// tables' worth of rows and dropped if it answered fewer than 3 rows in 4.
void adapt_table(FunctionCallInfo fcinfo, HasModuleMemo *memo, const Key &key)
{
    if (memo->gave_up)
        return;
    ++memo->misses;
    if (memo->table_size == 0) {
        count_pairs(fcinfo, memo, key);
        return;
    }
    if (memo->table_size < kMaxDecisions) {
        if (memo->misses > memo->table_size) {
            memo->misses = 0;
            memo->table_hits = 0;
            resize_table(fcinfo, memo, std::min(memo->table_size * 4, kMaxDecisions));
        }
        return;
    }
    if (memo->misses + memo->table_hits < 4 * uint64_t(kMaxDecisions))
        return;
    if (memo->table_hits < 3 * memo->misses)
        drop_table(memo, true);
    memo->misses = 0;
    memo->table_hits = 0;
}

// Until when key may use module code; the per-row path of has_module.
int64_t module_until(FunctionCallInfo fcinfo, const Key &key, std::string_view code)
{
    auto *memo = static_cast<HasModuleMemo *>(fcinfo->flinfo->fn_extra);
    uint64_t epoch = modaccess::epoch();
    if (memo_knows_code(memo, code)) {
        if (const Decision *d = find_decision(memo, key, epoch)) {
            modaccess::count_hit();
            memo->table_hits += memo->table_size != 0;
            return d->until;
        }
        int64_t until;
        if (modaccess::cached_until(key, memo->module, memo->globals, until)) {
            adapt_table(fcinfo, memo, key);
            store_decision(memo, Decision{key, epoch, until});
            return until;
        }
    }
    modaccess::View v = modaccess::view(key);
    int module = modaccess::module_index(*v.globals, code);
    int64_t until = v.until(module);
    if (code.size() < sizeof memo->code) {
        if (memo == nullptr) {
            pg::call([&] {
                memo = static_cast<HasModuleMemo *>(
                    MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof *memo));
            });
            fcinfo->flinfo->fn_extra = memo;
        }
        forget_stale_answers(memo, code);
        memo->generation = modaccess::generation();
        memo->globals = v.globals.get();
        memo->module = module;
        memo->code_len = static_cast<int>(code.size());
        std::memcpy(memo->code, code.data(), code.size());
        store_decision(memo, Decision{key, epoch, until});
    }
    return until;
}

Key key_args(FunctionCallInfo fcinfo)
{
    return Key{pg::uuid_arg(fcinfo, 0), pg::uuid_arg(fcinfo, 1)};
}

// has_module(user_id, tenant_id, module_code) -> boolean
Datum has_module(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    return BoolGetDatum(now() < module_until(fcinfo, key_args(fcinfo), pg::text_arg(fcinfo, 2)));
}

// require_module(user_id, tenant_id, module_code) -> true, or raises 42501 with the
// denial marker (schema 'clinres', table 'module', column the module code).
Datum require_module(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    if (PG_ARGISNULL(2))
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "module code must not be null");
    std::string_view given = pg::text_arg(fcinfo, 2);
    auto g = modaccess::globals();
    std::string code = g->modules[modaccess::module_index(*g, given)].code; // 22023 even without a user
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        throw pg::Error::denial("module", code, "permission denied for module \"" + code + "\"",
                                "No user or tenant was given.");
    Key key = key_args(fcinfo);
    if (!(now() < module_until(fcinfo, key, given)))
        throw pg::Error::denial("module", code, "permission denied for module \"" + code + "\"",
                                "User " + pg::to_string(key.user) + " may not use module \"" + code +
                                    "\" in tenant " + pg::to_string(key.tenant) + ".");
    PG_RETURN_BOOL(true);
}

// has_permission(user_id, tenant_id, permission_code) -> boolean
Datum has_permission(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    modaccess::View v = modaccess::view(key_args(fcinfo));
    return BoolGetDatum(v.permission(modaccess::permission_index(*v.globals, pg::text_arg(fcinfo, 2))));
}

// landing_module(user_id, tenant_id) -> the first accessible module, or NULL
Datum landing_module(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    modaccess::View v = modaccess::view(key_args(fcinfo));
    for (size_t i = 0; i < v.globals->modules.size(); ++i)
        if (now() < v.until(static_cast<int>(i)))
            return pg::text_datum(v.globals->modules[i].code);
    PG_RETURN_NULL();
}

// user_modules(user_id, tenant_id) -> TABLE(code, name, route, sort_order, schema_name)
Datum user_modules(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    modaccess::View v = modaccess::view(key_args(fcinfo));
    std::vector<const modaccess::Module *> rows;
    for (size_t i = 0; i < v.globals->modules.size(); ++i)
        if (now() < v.until(static_cast<int>(i)))
            rows.push_back(&v.globals->modules[i]);
    pg::materialize(fcinfo, false, [&](auto put) {
        for (const modaccess::Module *m : rows) {
            Datum values[5] = {CStringGetTextDatum(m->code.c_str()), CStringGetTextDatum(m->name.c_str()),
                               CStringGetTextDatum(m->route.c_str()), Int32GetDatum(m->sort_order),
                               DirectFunctionCall1(namein, CStringGetDatum(m->schema_name.c_str()))};
            bool nulls[5] = {false, false, false, false, false};
            put(values, nulls);
        }
    });
    return 0;
}

// tenants_with_module(module_code) -> SETOF uuid: tenants where the context user has it.
Datum tenants_with_module(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    std::string code(pg::text_arg(fcinfo, 0));
    modaccess::module_index(*modaccess::globals(), code); // 22023 even without a context
    std::vector<modaccess::Uuid> tenants;
    if (const modaccess::Uuid *user = modaccess::context_user())
        for (const modaccess::Uuid &tenant : modaccess::candidate_tenants(*user)) {
            modaccess::View v = modaccess::view(Key{*user, tenant});
            if (now() < v.until(modaccess::module_index(*v.globals, code)))
                tenants.push_back(tenant);
        }
    pg::materialize(fcinfo, true, [&](auto put) {
        for (const modaccess::Uuid &t : tenants) {
            pg_uuid_t *value = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
            std::memcpy(value->data, t.bytes, 16);
            Datum d = UUIDPGetDatum(value);
            bool null = false;
            put(&d, &null);
        }
    });
    return 0;
}

// Returns the context uuid, or NULL when unset.
Datum context_datum(FunctionCallInfo fcinfo, const modaccess::Uuid *value)
{
    if (value == nullptr)
        PG_RETURN_NULL();
    return pg::uuid_datum(*value);
}

Datum current_user_id(FunctionCallInfo fcinfo)
{
    return context_datum(fcinfo, modaccess::context_user());
}
Datum current_tenant_id(FunctionCallInfo fcinfo)
{
    return context_datum(fcinfo, modaccess::context_tenant());
}

// _module_code(code) -> the canonical (lower-case) code; 22023 if unknown.
Datum module_code(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    auto g = modaccess::globals();
    return pg::text_datum(g->modules[modaccess::module_index(*g, pg::text_arg(fcinfo, 0))].code);
}

// access_cache_stats() -> one row of counters.
Datum access_cache_stats(FunctionCallInfo fcinfo)
{
    modaccess::Stats s = modaccess::stats();
    Datum values[7] = {Int64GetDatum(s.hits),      Int64GetDatum(s.misses),  Int64GetDatum(s.invalidations),
                       Int64GetDatum(s.evictions), Int64GetDatum(s.entries), Int64GetDatum(s.bytes),
                       Int64GetDatum(s.capacity)};
    bool nulls[7] = {};
    return pg::composite(fcinfo, values, nulls);
}

// The uuid in column `column` of a trigger's row, or false if it is null.
bool row_uuid(TriggerData *td, HeapTuple tuple, const char *column, modaccess::Uuid &out)
{
    bool null = true;
    pg::call([&] {
        TupleDesc desc = RelationGetDescr(td->tg_relation);
        int attnum = SPI_fnumber(desc, column);
        if (attnum <= 0 || TupleDescAttr(desc, attnum - 1)->atttypid != UUIDOID)
            elog(ERROR, "access_cache_invalidate: no uuid column \"%s\"", column);
        Datum d = heap_getattr(tuple, attnum, desc, &null);
        if (!null)
            std::memcpy(out.bytes, DatumGetUUIDP(d)->data, 16);
    });
    return !null;
}

// Trigger on the catalog tables: tells every backend what changed. Arguments: the kind
// ('globals', 'user' or 'tenant') and, for row triggers, the column holding the key.
Datum access_cache_invalidate(FunctionCallInfo fcinfo)
{
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "access_cache_invalidate must be called as a trigger");
    auto *td = reinterpret_cast<TriggerData *>(fcinfo->context);
    Oid relid = RelationGetRelid(td->tg_relation);
    const Trigger *tg = td->tg_trigger;
    std::string_view kind = tg->tgnargs >= 1 ? tg->tgargs[0] : "globals";
    if (kind != "globals" && kind != "user" && kind != "tenant")
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "access_cache_invalidate: unknown kind \"" + std::string(kind) + "\"", {},
                        "The kind is 'globals', 'user' or 'tenant'.");
    if (kind == "globals" || !TRIGGER_FIRED_FOR_ROW(td->tg_event) || tg->tgnargs < 2) {
        modaccess::invalidate_kind(relid, kind == "globals" ? modaccess::Kind::Globals
                                          : kind == "user"  ? modaccess::Kind::Users
                                                            : modaccess::Kind::Tenants);
        return PointerGetDatum(nullptr);
    }
    auto change = kind == "user" ? modaccess::ChangeKind::User : modaccess::ChangeKind::Tenant;
    modaccess::Uuid old_key{}, new_key{};
    bool has_old = row_uuid(td, td->tg_trigtuple, tg->tgargs[1], old_key);
    if (has_old)
        modaccess::invalidate_key(relid, change, old_key);
    if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) && row_uuid(td, td->tg_newtuple, tg->tgargs[1], new_key) &&
        !(has_old && new_key == old_key))
        modaccess::invalidate_key(relid, change, new_key);
    return PointerGetDatum(td->tg_trigtuple);
}

} // namespace

CLINRES_FUNCTION(clinres_has_module, has_module)
CLINRES_FUNCTION(clinres_require_module, require_module)
CLINRES_FUNCTION(clinres_has_permission, has_permission)
CLINRES_FUNCTION(clinres_landing_module, landing_module)
CLINRES_FUNCTION(clinres_user_modules, user_modules)
CLINRES_FUNCTION(clinres_tenants_with_module, tenants_with_module)
CLINRES_FUNCTION(clinres_current_user_id, current_user_id)
CLINRES_FUNCTION(clinres_current_tenant_id, current_tenant_id)
CLINRES_FUNCTION(clinres_module_code, module_code)
CLINRES_FUNCTION(clinres_access_cache_stats, access_cache_stats)
CLINRES_FUNCTION(clinres_access_cache_invalidate, access_cache_invalidate)
