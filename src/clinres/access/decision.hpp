// The one authorization decision of user management (docs/users.md, "Who may do what"):
// may this actor do this verb to that user, in that tenant, with that role? Every SQL
// path (the admin functions, import, export, the audit page, session_profile) asks it
// through clinres._authorize / clinres._denial. Pure C++: no PostgreSQL headers.
#pragma once

#include "clinres/access/model.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace modaccess {

// What an actor may be asking to do.
enum class Verb {
    Context,       // hold the session context in the tenant
    View,          // read the user (get_user and every result that shows it)
    Profile,       // read the user's session_profile in the tenant
    Explain,       // read why the user may or may not use a module in the tenant (explain_access)
    List,          // list the tenant's users (tenant absent: every user)
    Audit,         // read the tenant's audit rows (tenant absent: every row)
    Export,        // export the tenant's users
    Grant,         // grant the role in the tenant (the grant ceiling alone)
    Create,        // create a new user in the tenant with the role
    Add,           // add an existing user to the tenant with the role
    Role,          // change the member's role in the tenant to the role
    Modules,       // configure the member's modules in the tenant
    EnableMember,  // set the membership active
    DisableMember, // set the membership disabled
    Validity,      // change the membership's validity (valid_from, valid_until): it may end it, or extend it
    Remove,        // remove the membership
    Update,        // change the user's global fields (email, name, phone)
    Password,      // set the user's password
    Enable,        // set the account active
    Disable,       // set the account disabled
    Delete,        // delete the account
    Sessions,      // list or end the user's sessions in the tenant (tenant absent: in any tenant of the user)
    Erase,         // erase the user's personal data from the catalog and the trail (the user may be deleted)
};

// The verb named by its SQL spelling ("create", "disable_member", ...), if any.
std::optional<Verb> verb_named(std::string_view name);

// A tenant as the decision needs it.
struct TenantFacts {
    bool exists = false;
    bool active = false;
    std::string code; // for messages
};

// The actor's standing in one tenant: its access there and the tenant's facts.
struct Standing {
    Access access;
    TenantFacts tenant;
};

// A target user with every membership, whatever its status, and the tenants that removed
// it (whose administrators may add it back, or explain why it no longer has access).
struct Target {
    Uuid id;
    bool exists = false;
    RoleId platform_role = kNoRole;
    std::vector<MemberFacts> memberships; // sorted by tenant
    std::vector<Uuid> former_tenants;
};

// A refusal: its SQLSTATE (42501 with the denial marker, or P0002 for "not a member"),
// the marker's kind ("permission", "role", "self", "row") and what it names, and the text.
struct Denial {
    bool refused = false;
    int sqlstate = 0; // kInsufficientPrivilege or kNoDataFound
    std::string kind, what, message, detail;
};

constexpr int kInsufficientPrivilege = 1; // 42501
constexpr int kNoDataFound = 2;           // P0002

// What the decision may look up: the actor's standing in a tenant, and a role's scope.
struct Facts {
    const Globals &globals;
    Uuid actor;
    std::function<Standing(const Uuid &tenant)> actor_in;
};

// Whether the actor, standing so in a tenant, holds permission p there. A platform role's
// permissions hold in every tenant, whatever its status; a tenant role's only while the
// user, the tenant and the membership are active.
bool holds(const Globals &g, const Standing &s, int p);

// Whether role r is within the actor's grant ceiling in the tenant: any role for an
// active SUPER_ADMIN; else a tenant-scoped role whose permissions are all the actor's own
// role's there (an active member of an active tenant).
bool within_ceiling(const Globals &g, const Standing &s, RoleId r);

// The decision: refused == false when the actor may do verb. tenant is null for the
// account-wide and platform-wide verbs; target is null for Context, List, Audit, Export,
// Grant and Create (for Sessions, tenant null asks whether any tenant of the target allows it); role is the
// role to grant (Grant, Create, Add, Role), else kNoRole.
// Grant and Create (for Erase it may name a deleted user); role is the role to grant (Grant, Create, Add,
// Role), else kNoRole.
Denial decide(const Facts &f, Verb verb, const Uuid *tenant, const Target *target, RoleId role);

} // namespace modaccess
