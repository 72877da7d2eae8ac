// The data the access engine works on: what the catalog says about a user and a
// tenant, and the rules that turn it into answers. Pure C++: no PostgreSQL headers.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace modaccess {

// Sentinels for "until" instants, equal to PostgreSQL's -infinity and infinity timestamps.
constexpr int64_t kDenied = INT64_MIN;
constexpr int64_t kForever = INT64_MAX;

struct Uuid {
    unsigned char bytes[16];
    bool operator==(const Uuid &o) const { return std::memcmp(bytes, o.bytes, 16) == 0; }
    bool operator<(const Uuid &o) const { return std::memcmp(bytes, o.bytes, 16) < 0; }
};

// Hashes a uuid by mixing its two 64-bit words.
struct UuidHash {
    size_t operator()(const Uuid &u) const
    {
        uint64_t w[2];
        std::memcpy(w, u.bytes, 16);
        uint64_t h = (w[0] ^ 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;
        h = (h ^ (h >> 32) ^ w[1]) * 0xc4ceb9fe1a85ec53ULL;
        return static_cast<size_t>(h ^ (h >> 29));
    }
};

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
    std::vector<Module> modules;                        // in navigation order
    std::unordered_map<std::string, int> module_index;  // code -> position in modules
    std::vector<std::string> permissions;               // sorted
    std::unordered_map<std::string, int> permission_index;
    std::unordered_map<std::string, std::vector<bool>> role_permissions;  // role -> by permission index
};

// A tenant: its status and, per module index, until when it subscribes (kDenied if not).
struct TenantEntry {
    bool active = false;
    std::vector<int64_t> subscribed_until;
};

// A user's membership in one tenant, with its own module configuration.
struct Membership {
    Uuid tenant;
    bool active = false;
    std::string role;
    bool configured = false;   // has any user_modules row in the tenant
    std::vector<bool> enabled;  // by module index: its row says is_enabled
};

// A user: status, platform role and every membership (sorted by tenant).
struct UserEntry {
    bool active = false;
    std::string platform_role;
    std::vector<Membership> memberships;
    const Membership *membership(const Uuid &tenant) const;
};

// Until when the user may use module m in the tenant (API.md section 2); kDenied if not.
int64_t module_until(const Globals &g, const UserEntry &u, const TenantEntry &t, const Uuid &tenant, int m);

// Whether the user holds permission p in the tenant (platform role anywhere, or tenant role).
bool holds_permission(const Globals &g, const UserEntry &u, const TenantEntry &t, const Uuid &tenant, int p);

}  // namespace modaccess
