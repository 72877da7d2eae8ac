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

// A materialized result filled one row at a time, each row under its own pg::call, so that
// the rows may come from elsewhere (an SPI cursor) between puts.
class MaterializedRows {
public:
    explicit MaterializedRows(FunctionCallInfo fcinfo)
    {
        pg::call([&] {
            InitMaterializedSRF(fcinfo, 0);
            rsinfo_ = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
            scratch_ =
                AllocSetContextCreate(CurrentMemoryContext, "clinres result row", ALLOCSET_SMALL_SIZES);
        });
    }
    // Appends a row; make(values, nulls) fills it (under pg::call, in memory freed after the row).
    template <typename Make> void put(Make make)
    {
        pg::call([&] {
            MemoryContext old = MemoryContextSwitchTo(scratch_);
            Datum values[16];
            bool nulls[16];
            make(values, nulls);
            tuplestore_putvalues(rsinfo_->setResult, rsinfo_->setDesc, values, nulls);
            MemoryContextSwitchTo(old);
            MemoryContextReset(scratch_);
        });
    }

private:
    ReturnSetInfo *rsinfo_ = nullptr;
    MemoryContext scratch_ = nullptr;
};

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
