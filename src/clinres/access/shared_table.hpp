// The shared access table (issue 24): when clinres is preloaded, one table per server in
// shared memory of every (user, tenant) pair's packed answers (pair_answers.hpp), filled by
// backends from their own caches and read without a lock (see shared_table.cpp).
#pragma once

#include "clinres/access/pair_answers.hpp"

#include <cstdint>

namespace modaccess {

// While shared_preload_libraries is processed: defines clinres.shared_access_cache_memory,
// reserves the table and hooks COMMIT PREPARED; called from _PG_init.
void init_shared_table();

// Whether this server has the table (clinres preloaded, the setting above 0).
bool shared_table_available();

// Until when key may use module m, asked at now, if the table holds key's answers packed
// with globals of this fingerprint and read when every change before their stamp was taken
// in, and no change logged since (change_log.hpp) outdates them; false: ask the backend's cache.
bool shared_until(const Key &key, uint64_t fingerprint, int m, int64_t now, int64_t &until);

// Stores key's answers, read when every change logged before stamp was taken in; does
// nothing if a flush has outdated stamp already. May raise (taking the writers' lock).
void shared_put(const Key &key, uint64_t stamp, uint64_t fingerprint, const PairAnswers &answers);

struct SharedStats {
    uint64_t entries; // slots ever filled (outdated ones included until replaced)
    uint64_t bytes;   // of the buckets in use (they double as needed, up to the setting)
};
SharedStats shared_stats();

} // namespace modaccess
