// The heads of the audit trail's hash chains as a transaction moves them (chain_head.cpp).
#pragma once

namespace users {

// Registers the transaction callbacks that keep and write the heads; called from init_trail.
void init_chain_heads();

} // namespace users
