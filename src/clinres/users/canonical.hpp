// The canonical form of an audit row (docs/users.md, "The audit trail"): the text whose SHA-256
// is the row's row_hash, defined here once for the chain trigger, verify_admin_logs and the
// export (pure C++: the callers read the row's columns, this writes the form).
#pragma once

#include "clinres/core/pure.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace users {

// The columns of a row as its canonical form holds them; nullopt is SQL NULL.
struct CanonicalRow {
    int version = 2; // hash_version: 1 (rows of 0.3.0) or 2
    int64_t id = 0;
    std::string_view created_at;           // at UTC, as jsonb writes a timestamp ("2026-01-02T03:04:05.678")
    std::optional<std::string_view> actor; // 16 raw bytes
    std::optional<std::string_view> tenant;
    std::optional<std::string_view> action, target;
    std::string_view detail_digest; // 64 lower-case hex digits (see detail_digest_of)
    std::optional<std::string_view> change_reason;
    std::optional<std::string_view> prev_hash; // raw bytes (32 unless tampered with)
};

// What a row's form hashes in place of its detail.
enum class DetailDigest {
    Digested, // form 2: SHA-256 of the text of the detail with its personal values digested
    Whole,    // form 1: SHA-256 of the detail's jsonb text
    Kept,     // form 1, erased: the detail_sha256 erase_user kept
};

// Which digest a row of that version hashes; kept: its detail_sha256 is not NULL (a form-2 row
// never hashes one, whatever it holds).
DetailDigest detail_digest_of(int version, bool kept);

// Writes the canonical text of row into out (replacing what it held): a JSON array as jsonb's
// text form writes it: [2, id, created_at, actor_id, tenant_id, action, target, detail digest,
// change_reason, prev_hash in hex] for form 2, without the leading 2 for form 1; NULL is null.
void canonical_text(const CanonicalRow &row, std::string &out);

// Lower-case hex of bytes, appended to out.
void append_hex(std::string &out, std::string_view bytes);

} // namespace users
