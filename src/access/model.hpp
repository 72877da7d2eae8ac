// The data the access engine works on: catalog facts in, access decisions out.
// Pure C++: no PostgreSQL headers, so the rules can be read (and tested) on their own.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace modaccess {

// Sentinels for Access::until, equal to PostgreSQL's -infinity and infinity timestamps.
constexpr int64_t kDenied = INT64_MIN;
constexpr int64_t kForever = INT64_MAX;

struct Uuid {
    unsigned char bytes[16];
    bool operator==(const Uuid &o) const { return std::memcmp(bytes, o.bytes, 16) == 0; }
};

// A (user, tenant) pair: the unit the cache stores.
struct Key {
    Uuid user, tenant;
    bool operator==(const Key &o) const { return user == o.user && tenant == o.tenant; }
};

// Hashes a Key by mixing its four 64-bit words.
struct KeyHash {
    size_t operator()(const Key &k) const
    {
        uint64_t w[4];
        std::memcpy(w, k.user.bytes, 16);
        std::memcpy(w + 2, k.tenant.bytes, 16);
        uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (uint64_t x : w)
            h = (h ^ x) * 0xff51afd7ed558ccdULL, h ^= h >> 32;
        return static_cast<size_t>(h);
    }
};

struct Module {
    std::string code, name, route, schema_name;
    int sort_order = 0;
    bool active = false;
};

// Catalog data shared by every (user, tenant): modules, permissions, role grants.
struct Globals {
    std::vector<Module> modules;                        // in navigation order
    std::unordered_map<std::string, int> module_index;  // code -> position in modules
    std::vector<std::string> permissions;
    std::unordered_map<std::string, int> permission_index;
    std::unordered_map<std::string, std::vector<bool>> role_permissions;  // role -> by permission index
};

struct Subscription {
    bool enabled = false;
    int64_t expires_at = kForever;  // PostgreSQL timestamp; kForever when NULL
};

// Everything the catalog says about one user in one tenant.
struct Facts {
    bool user_active = false, tenant_active = false;
    bool member_active = false;
    std::string platform_role, tenant_role;
    std::unordered_map<std::string, Subscription> subscriptions;  // module code -> subscription
    std::unordered_map<std::string, bool> user_modules;           // module code -> is_enabled
};

// The decision for one (user, tenant): per module, the instant access ends.
struct Access {
    std::vector<int64_t> until;  // by module index: kDenied, kForever or expires_at
    std::vector<bool> permissions;  // by permission index
    bool allows(int module, int64_t now) const { return now < until[module]; }
};

// Applies API.md section 2's rules to the facts of one user in one tenant.
Access decide(const Facts &facts, const Globals &globals);

}  // namespace modaccess
