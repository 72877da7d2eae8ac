// The data the access engine works on: what the catalog says about a user and a
// tenant, and the rules that turn it into answers. Pure C++: no PostgreSQL headers.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "clinres/core/pure.hpp"
#include "clinres/core/uuid.hpp"

namespace modaccess {

using clinres::Uuid;
using clinres::UuidHash;

// Sentinels for "until" instants, equal to PostgreSQL's -infinity and infinity timestamps.
constexpr int64_t kDenied = INT64_MIN;
constexpr int64_t kForever = INT64_MAX;

// A (user, tenant) pair, the question has_module answers about.
struct Key {
    Uuid user, tenant;
    bool operator==(const Key &o) const { return user == o.user && tenant == o.tenant; }
};

struct Module {
    std::string code, name, route, schema_name;
    int sort_order = 0;
    bool active = false;
};

// Catalog data shared by every user and tenant: modules, permissions, role grants.
struct Globals {
    std::vector<Module> modules;                       // in navigation order
    std::unordered_map<std::string, int> module_index; // code -> position in modules
    std::vector<std::string> permissions;              // sorted
    std::unordered_map<std::string, int> permission_index;
    std::unordered_map<std::string, std::vector<bool>> role_permissions; // role -> by permission index
};

// A tenant: its status and, per module index, until when it subscribes (kDenied if not).
struct TenantEntry {
    bool active = false;
    std::vector<int64_t> subscribed_until;
};

// The most modules the engine handles (module sets are inline bitsets).
constexpr size_t kMaxModules = 128;

// A set of module indexes.
struct ModuleSet {
    uint64_t words[kMaxModules / 64] = {};
    bool has(int m) const { return words[m >> 6] >> (m & 63) & 1; }
    void add(int m) { words[m >> 6] |= uint64_t(1) << (m & 63); }
};

// A user's membership in one tenant, with its own module configuration.
struct Membership {
    Uuid tenant;
    bool active = false;
    bool configured = false; // has any user_modules row in the tenant
    ModuleSet enabled;       // modules whose row says is_enabled
    std::string role;
};

// A user: status, platform role and every membership (sorted by tenant).
struct UserEntry {
    bool active = false;
    bool super_admin = false; // platform_role is SUPER_ADMIN
    std::string platform_role;
    std::vector<Membership> memberships;
    const Membership *membership(const Uuid &tenant) const;
    Membership *membership(const Uuid &tenant)
    {
        return const_cast<Membership *>(static_cast<const UserEntry &>(*this).membership(tenant));
    }
};

// Until when the user may use module m in the tenant (docs/reference.md, "Module access"); kDenied if not.
int64_t module_until(const Globals &g, const UserEntry &u, const TenantEntry &t, const Uuid &tenant, int m);

// Whether the user holds permission p in the tenant (platform role anywhere, or tenant role).
bool holds_permission(const Globals &g, const UserEntry &u, const TenantEntry &t, const Uuid &tenant, int p);

} // namespace modaccess
