// An admin_logs row read for its canonical form (canonical.hpp): the columns found by name in a
// tuple descriptor, the digest its form hashes for the detail, the canonical text and row_hash.
// Used by the chain trigger, verify_admin_logs and _admin_log_canonical_of alike.
#pragma once

#include "clinres/users/canonical.hpp"

#include "clinres/pg/postgres.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace users {

// The columns of admin_logs that the canonical form reads or the chain trigger writes.
enum TrailColumn {
    kId,
    kCreatedAt,
    kActor,
    kTenant,
    kAction,
    kTarget,
    kDetail,
    kReason,
    kPrevHash,
    kRowHash,
    kVersion,
    kSalt,
    kDetailSha256,
    kTrailColumns
};

class TrailRow {
public:
    // Finds the columns in desc (admin_logs', or a query's selecting them by name); pg::Error
    // 42703 when one is missing.
    explicit TrailRow(TupleDesc desc);
    // The index of column c in a deformed tuple (values, nulls) of desc.
    int at(TrailColumn c) const { return index_[c]; }
    // The canonical text of the deformed tuple into text, its SHA-256 into hash (palloc's in the
    // current memory context).
    void hash(const Datum *values, const bool *nulls, std::string &text, std::array<uint8_t, 32> &hash);

private:
    int index_[kTrailColumns];
    std::string digest_; // the detail's digest in hex
};

} // namespace users
