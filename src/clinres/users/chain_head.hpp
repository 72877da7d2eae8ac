// The heads of the audit trail's hash chains as a transaction moves them (chain_head.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace users {

// A chain: its tenant's id, or the nil uuid for the platform-wide chain (16 raw bytes).
using ChainKey = std::array<unsigned char, 16>;
using RowHash = std::array<unsigned char, 32>;

// The last row of a chain: its id and row_hash.
struct ChainHead {
    int64_t id;
    RowHash hash;
};

// The head a new row of the chain links to: the one this transaction set, or else the one the
// chain's row in clinres.admin_log_chains holds, that row claimed first (locked until the
// transaction ends; under REPEATABLE READ a concurrent claim is 40001); nullopt for a new chain.
std::optional<ChainHead> chain_head(const ChainKey &chain);

// The chain's new head (its row just chained); the chain was claimed by chain_head in this transaction.
void set_chain_head(const ChainKey &chain, const ChainHead &head);

// Registers the transaction callbacks that keep and write the heads; called from init_trail.
void init_chain_heads();

} // namespace users
