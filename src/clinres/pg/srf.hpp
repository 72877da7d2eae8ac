// Result helpers for functions that return rows: a materialized set, or one composite row.
#pragma once

#include "clinres/pg/guard.hpp"

namespace pg {

// Materializes a set-returning function's rows: emit(put) calls put(values, nulls) once
// per row. scalar: the function returns SETOF a base type (one column). Runs under pg::call.
template <typename Emit> void materialize(FunctionCallInfo fcinfo, bool scalar, Emit emit)
{
    pg::call([&] {
        InitMaterializedSRF(fcinfo, scalar ? MAT_SRF_USE_EXPECTED_DESC : 0);
        ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        emit([rsinfo](Datum *values, bool *nulls) {
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        });
    });
}

// One row of the function's declared composite result type.
inline Datum composite(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
    Datum result = 0;
    pg::call([&] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "function returning a record called in a context that cannot accept one");
        result = HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
    });
    return result;
}

} // namespace pg
