// SQL entry points of the module-access engine (docs/reference.md, "Module access").
#include "clinres/access/cache.hpp"
#include "clinres/access/pair_memo.hpp"
#include "clinres/pg/datum.hpp"
#include "clinres/pg/srf.hpp"
#include "clinres/session/context.hpp"

#include <new>

namespace {

using modaccess::Key;

TimestampTz now()
{
    return GetCurrentTransactionStartTimestamp();
}

// Allocates a call site's memo buffers in its function's memory context.
struct CallSiteAlloc {
    MemoryContext context;
    void *zeroed(size_t bytes)
    {
        void *p = nullptr;
        pg::call([&] { p = MemoryContextAllocZero(context, bytes); });
        return p;
    }
    void release(void *p) { pfree(p); }
};

// What a has_module call site remembers between rows: the module code it resolved
// (valid while the globals it came from are current) and this statement's answers
// (pair_memo.hpp), which last until the next generation.
struct HasModuleMemo {
    uint64_t generation;
    const modaccess::Globals *globals;
    int module;
    int code_len;
    char code[NAMEDATALEN];
    modaccess::PairMemo<CallSiteAlloc> answers;
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

// Until when key may use module code; the per-row path of has_module: the call site's
// memo, the shared table (preloaded), the backend's cache, the catalog.
int64_t module_until(FunctionCallInfo fcinfo, const Key &key, std::string_view code)
{
    auto *memo = static_cast<HasModuleMemo *>(fcinfo->flinfo->fn_extra);
    uint64_t epoch = modaccess::epoch();
    int64_t until;
    if (memo_knows_code(memo, code)) {
        if (const modaccess::Decision *d = memo->answers.find(key, epoch)) {
            modaccess::count_hit();
            return d->until;
        }
        bool shared = modaccess::shared_answer(key, memo->module, memo->globals, until);
        if (shared || modaccess::cached_until(key, memo->module, memo->globals, until)) {
            memo->answers.missed(key);
            memo->answers.store(modaccess::Decision{key, epoch, until});
            if (!shared)
                modaccess::share(key);
            return until;
        }
    }
    std::shared_ptr<const modaccess::Globals> g = modaccess::globals();
    int module = modaccess::module_index(*g, code);
    if (!modaccess::shared_answer(key, module, g.get(), until)) {
        modaccess::View v = modaccess::view(key);
        g = v.globals;
        module = modaccess::module_index(*g, code);
        until = v.until(module);
        modaccess::share(key);
    }
    if (code.size() < sizeof memo->code) {
        if (memo == nullptr) {
            pg::call([&] {
                void *p = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof *memo);
                memo = new (p) HasModuleMemo{
                    0, nullptr, 0,
                    0, {},      modaccess::PairMemo<CallSiteAlloc>(CallSiteAlloc{fcinfo->flinfo->fn_mcxt})};
            });
            fcinfo->flinfo->fn_extra = memo;
        } else if (!same_code(memo, code) || memo->generation != modaccess::generation()) {
            memo->answers.reset(false); // answers and choices for another code or generation
        }
        memo->generation = modaccess::generation();
        memo->globals = g.get();
        memo->module = module;
        memo->code_len = static_cast<int>(code.size());
        std::memcpy(memo->code, code.data(), code.size());
        memo->answers.store(modaccess::Decision{key, epoch, until});
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
    // 0.3.0's declaration has the first 7 columns only: the tuple takes as many as it declares.
    Datum values[10] = {Int64GetDatum(s.hits),           Int64GetDatum(s.misses),
                        Int64GetDatum(s.invalidations),  Int64GetDatum(s.evictions),
                        Int64GetDatum(s.entries),        Int64GetDatum(s.bytes),
                        Int64GetDatum(s.capacity),       Int64GetDatum(s.shared_hits),
                        Int64GetDatum(s.shared_entries), Int64GetDatum(s.shared_bytes)};
    bool nulls[10] = {};
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
