// SQL entry points of the module-access engine (API.md section 2).
#include "access/cache.hpp"
#include "access/context.hpp"
#include "pg/datum.hpp"

namespace {

using modaccess::Key;

TimestampTz now() { return GetCurrentTransactionStartTimestamp(); }

// What a has_module call site remembers between rows: the last question and answer.
struct HasModuleMemo {
    uint64_t generation, epoch;
    Key key;
    int64_t until;
    int code_len;
    char code[NAMEDATALEN];
};

// Whether memo answers (key, code) without consulting the cache.
bool memo_answers(const HasModuleMemo *memo, const Key &key, std::string_view code)
{
    return memo != nullptr && memo->generation == modaccess::generation() && memo->epoch == modaccess::epoch() &&
           memo->key == key && static_cast<size_t>(memo->code_len) == code.size() &&
           std::memcmp(memo->code, code.data(), code.size()) == 0;
}

// Until when key may use module code; the per-row path of has_module and the RLS policy.
int64_t module_until(FunctionCallInfo fcinfo, const Key &key, std::string_view code)
{
    auto *memo = static_cast<HasModuleMemo *>(fcinfo->flinfo->fn_extra);
    if (memo_answers(memo, key, code)) {
        modaccess::count_hit();
        return memo->until;
    }
    modaccess::View v = modaccess::view(key);
    int64_t until = v.until(modaccess::module_index(*v.globals, code));
    if (code.size() < sizeof memo->code) {
        if (memo == nullptr) {
            pg::call([&] { memo = static_cast<HasModuleMemo *>(MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof *memo)); });
            fcinfo->flinfo->fn_extra = memo;
        }
        *memo = HasModuleMemo{modaccess::generation(), modaccess::epoch(), key, until, static_cast<int>(code.size()), {}};
        std::memcpy(memo->code, code.data(), code.size());
    }
    return until;
}

Key key_args(FunctionCallInfo fcinfo) { return Key{pg::uuid_arg(fcinfo, 0), pg::uuid_arg(fcinfo, 1)}; }

// has_module(user_id, tenant_id, module_code) -> boolean
Datum has_module(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    return BoolGetDatum(now() < module_until(fcinfo, key_args(fcinfo), pg::text_arg(fcinfo, 2)));
}

// require_module(user_id, tenant_id, module_code): raises 42501 unless has_module.
Datum require_module(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    if (PG_ARGISNULL(2))
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "module code must not be null");
    std::string_view code = pg::text_arg(fcinfo, 2);
    modaccess::module_index(*modaccess::globals(), code);  // 22023 even without a user
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for module \"" + std::string(code) + "\"",
                        "No user or tenant was given.");
    Key key = key_args(fcinfo);
    if (!(now() < module_until(fcinfo, key, code)))
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for module \"" + std::string(code) + "\"",
                        "User " + pg::to_string(key.user) + " may not use module \"" + std::string(code) +
                            "\" in tenant " + pg::to_string(key.tenant) + ".");
    PG_RETURN_VOID();
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
    pg::call([&] {
        InitMaterializedSRF(fcinfo, 0);
        ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        for (const modaccess::Module *m : rows) {
            Datum values[5] = {CStringGetTextDatum(m->code.c_str()), CStringGetTextDatum(m->name.c_str()),
                               CStringGetTextDatum(m->route.c_str()), Int32GetDatum(m->sort_order),
                               DirectFunctionCall1(namein, CStringGetDatum(m->schema_name.c_str()))};
            bool nulls[5] = {false, false, false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        }
    });
    return 0;
}

// tenants_with_module(module_code) -> SETOF uuid: tenants where the context user has it.
Datum tenants_with_module(FunctionCallInfo fcinfo)
{
    modaccess::begin_call();
    std::string code(pg::text_arg(fcinfo, 0));
    modaccess::module_index(*modaccess::globals(), code);  // 22023 even without a context
    std::vector<modaccess::Uuid> tenants;
    if (const modaccess::Uuid *user = modaccess::context_user())
        for (const modaccess::Uuid &tenant : modaccess::candidate_tenants(*user)) {
            modaccess::View v = modaccess::view(Key{*user, tenant});
            if (now() < v.until(modaccess::module_index(*v.globals, code)))
                tenants.push_back(tenant);
        }
    pg::call([&] {
        InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
        ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        for (const modaccess::Uuid &t : tenants) {
            pg_uuid_t *value = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
            std::memcpy(value->data, t.bytes, 16);
            Datum d = UUIDPGetDatum(value);
            bool null = false;
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &d, &null);
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

Datum current_user_id(FunctionCallInfo fcinfo) { return context_datum(fcinfo, modaccess::context_user()); }
Datum current_tenant_id(FunctionCallInfo fcinfo) { return context_datum(fcinfo, modaccess::context_tenant()); }

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
    Datum values[7] = {Int64GetDatum(s.hits),    Int64GetDatum(s.misses), Int64GetDatum(s.invalidations),
                       Int64GetDatum(s.evictions), Int64GetDatum(s.entries), Int64GetDatum(s.bytes),
                       Int64GetDatum(s.capacity)};
    bool nulls[7] = {};
    Datum result = 0;
    pg::call([&] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "access_cache_stats must return a record");
        desc = BlessTupleDesc(desc);
        result = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
    return result;
}

// Trigger on the catalog tables: tells every backend the access rules' inputs changed.
Datum access_cache_invalidate(FunctionCallInfo fcinfo)
{
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "access_cache_invalidate must be called as a trigger");
    modaccess::invalidate_catalog();
    return PointerGetDatum(nullptr);
}

}  // namespace

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
