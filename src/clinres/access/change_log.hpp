// The shared log of changed users and tenants that lets a backend evict just the
// entries a commit changed (cache.cpp), and tells the shared access table
// (shared_table.cpp) which of its entries a commit outdated. It lives in shared memory,
// so it exists only when clinres is in shared_preload_libraries.
#pragma once

#include "clinres/access/model.hpp"
#include "clinres/pg/postgres.hpp"

#include <vector>

namespace modaccess {

enum class ChangeKind : uint8_t { User, Tenant };

struct Change {
    ChangeKind kind;
    Uuid key;
};

// Reserves the log; called from _PG_init while shared_preload_libraries is processed.
void init_change_log();

// Whether the log exists in this server.
bool change_log_available();

// The position after the newest entry (a cursor that has read everything so far).
uint64_t change_log_head();

// Appends changes of this database; with overflow, marks every cursor as having missed
// entries instead (a flush: every position before the new head is outdated). Never raises
// (it runs in the commit callback).
void publish_changes(const std::vector<Change> &changes, bool overflow) noexcept;

// Whether a (user, tenant) pair read when every change before position stamp had been
// taken in still reads the same: no change since logged for the user's or the tenant's
// bucket (key_bells::bucket_of), and no flush. Takes no lock: a change a backend has heard
// the doorbell of is seen (the commit stores the positions before it sends the doorbell).
bool unchanged_since(uint64_t stamp, const Uuid &user, const Uuid &tenant);

// The position of the last flush: stamps before it are outdated.
uint64_t change_log_flushed();

// Appends to out the changes of this database after cursor and moves cursor to the head;
// false if entries after cursor were overwritten (the reader must assume anything changed).
bool read_changes(uint64_t &cursor, std::vector<Change> &out);

} // namespace modaccess
