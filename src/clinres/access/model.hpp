// The data the access engine works on: what the catalog says about a user and a
// tenant, and the rules that turn it into answers. Pure C++: no PostgreSQL headers.
#pragma once

#include <cstdint>
#include <cstring>
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

// A role, as its position in Globals::roles.
using RoleId = uint16_t;
constexpr RoleId kNoRole = UINT16_MAX;

// The most roles the engine handles (a role id is 16 bits, kNoRole excluded).
constexpr size_t kMaxRoles = kNoRole;

// Catalog data shared by every user and tenant: modules, permissions, roles and their grants.
struct Globals {
    std::vector<Module> modules;                       // in navigation order
    std::unordered_map<std::string, int> module_index; // code -> position in modules
    std::vector<std::string> permissions;              // sorted
    std::unordered_map<std::string, int> permission_index;
    std::vector<std::string> roles; // sorted: a RoleId is a position here
    std::unordered_map<std::string, RoleId> role_index;
    std::vector<std::vector<bool>> role_permissions; // by role id, then by permission index
    std::vector<bool> role_is_platform;              // by role id: scope 'platform'
};

// A tenant: its status and, per module index, until when it subscribes (kDenied if not).
struct TenantEntry {
    bool exists = false;
    bool active = false;
    std::string code;
    std::vector<int64_t> subscribed_until;
};

// The most modules the engine handles (module sets are inline bitsets).
constexpr size_t kMaxModules = 128;

// A set of module indexes.
struct ModuleSet {
    uint64_t words[kMaxModules / 64] = {};
    bool has(int m) const { return words[m >> 6] >> (m & 63) & 1; }
    void add(int m) { words[m >> 6] |= uint64_t(1) << (m & 63); }
    // The set of every module.
    static ModuleSet all()
    {
        ModuleSet s;
        for (uint64_t &w : s.words)
            w = ~uint64_t(0);
        return s;
    }
};

// The instants [from, until) at which a membership or a module grant is valid (valid_from and
// valid_until; kDenied and kForever for none), and for a grant its module.
struct Validity {
    int module = -1; // -1: the membership's own
    int64_t from = kDenied, until = kForever;
};

// A user's membership in one tenant as the catalog has it.
struct MemberFacts {
    Uuid tenant;
    RoleId role = kNoRole; // kNoRole: a role the globals do not know (yet)
    bool active = false;
    bool configured = false;      // has any user_modules row in the tenant
    ModuleSet enabled;            // modules whose row says is_enabled
    Validity valid;               // the membership's validity
    std::vector<Validity> grants; // the enabled grants that have a validity of their own
};

// A user as the catalog has it: status, platform role and every membership.
struct UserFacts {
    bool exists = false;
    bool active = false;
    bool super_admin = false; // platform_role is SUPER_ADMIN
    bool timed = false;       // a membership or grant has a validity (then the cache keeps only this flag)
    RoleId platform_role = kNoRole;
    std::vector<MemberFacts> memberships;
};

// What the rules need to know about one user in one tenant.
struct Access {
    bool user_active = false;
    bool super_admin = false;
    bool member = false; // holds an active membership in the tenant
    RoleId platform_role = kNoRole;
    RoleId role = kNoRole; // the membership's role, if member
    ModuleSet enabled;     // the modules the membership may use (every one if it configured none)
    // Facts that change only the reason of an answer, never the answer (the cache leaves them false):
    bool disabled_member = false; // holds a membership in the tenant that is not active
    bool configured = false;      // the membership has module rows of its own
    // Validities, of a timed user only (UserFacts::timed): the membership's, and its grants'.
    Validity valid;
    std::vector<Validity> grants;
};

// Whether the membership of a is valid at instant now (a member is outside its validity as
// if it were not one: no module and no tenant role).
inline bool member_at(const Access &a, int64_t now)
{
    return a.member && a.valid.from <= now && now < a.valid.until;
}

// Why a user may or may not use a module, in the order the facts are checked (docs/reference.md).
enum class Reason : uint8_t {
    UserDisabled,
    TenantDisabled,
    ModuleInactive,
    SuperAdmin,
    NotMember,
    MembershipDisabled,
    MembershipNotYetValid,
    MembershipExpired,
    NotSubscribed,
    SubscriptionExpired,
    GrantNotYetValid,
    GrantExpired,
    NotGranted,
    Inherited,
    Granted,
};

// The SQL spelling of a reason ("user_disabled", ...).
const char *reason_name(Reason r);

// The rules applied to one module: the first fact that decides the answer at the instant
// asked about, and the instants [from, until) at which the user may use the module while the
// catalog stays as it is (from > until: at none).
struct Ruling {
    Reason reason;
    int64_t from, until;
    bool allowed(int64_t now) const { return from <= now && now < until; }
};

// The access of a user (as the catalog has it) in a tenant.
Access access_in(const UserFacts &u, const Uuid &tenant);

// The module-access rules (docs/reference.md, "Module access") for module m at instant now:
// the one statement of them, which has_module, user_modules and explain_access all ask.
Ruling rule(const Globals &g, const Access &a, const TenantEntry &t, int m, int64_t now);

// Until when the user may use module m in the tenant, asked at instant now (the end of rule's
// window if now is inside it); kDenied if not.
int64_t module_until(const Globals &g, const Access &a, const TenantEntry &t, int m, int64_t now);

} // namespace modaccess
