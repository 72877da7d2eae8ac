// The shared log of changed users and tenants that lets a backend evict just the
// entries a commit changed (cache.cpp). It lives in shared memory, so it exists only
// when clinres is in shared_preload_libraries.
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
// entries instead. Never raises (it runs in the commit callback).
void publish_changes(const std::vector<Change> &changes, bool overflow) noexcept;

// Appends to out the changes of this database after cursor and moves cursor to the head;
// false if entries after cursor were overwritten (the reader must assume anything changed).
bool read_changes(uint64_t &cursor, std::vector<Change> &out);

} // namespace modaccess
