// A cached user, packed: a small header and its memberships inline, each naming its
// tenant by a TenantIds id. Pure C++.
#pragma once

#include "clinres/access/model.hpp"

namespace modaccess {

// A user's access data as the cache keeps it, 56 bytes for a user with up to kInline
// memberships while the catalog has at most 64 modules (a module set is then one
// word); more memberships, or more modules, go to one heap block sorted by tenant.
// Inactive memberships are left out: they answer exactly as no membership does.
class UserEntry {
public:
    static constexpr size_t kInline = 3;

    // Packs u; tenant_ids[i] is the id of u.memberships[i].tenant (any value for an
    // inactive one); wide: the catalog has more than 64 modules. May throw bad_alloc.
    UserEntry(const UserFacts &u, const std::vector<uint32_t> &tenant_ids, bool wide);
    UserEntry(UserEntry &&o) noexcept;
    UserEntry &operator=(UserEntry &&o) noexcept;
    UserEntry(const UserEntry &) = delete;
    UserEntry &operator=(const UserEntry &) = delete;
    ~UserEntry();

    // The user's access in the tenant with this id (any id no membership names: none).
    Access access_in(uint32_t tenant) const;

    // Calls f(tenant id) for every membership.
    template <typename F> void for_each_tenant(F f) const
    {
        for (uint32_t i = 0; i < count_; ++i)
            f(flags_ & kOnHeap ? wide_[i].tenant : narrow_[i].tenant);
    }

    // Whether the user has validities (UserFacts::timed): its answers are not taken from here.
    bool timed() const { return flags_ & kTimed; }

    // Heap bytes it owns besides itself.
    size_t heap_bytes() const;

private:
    struct Narrow {
        uint32_t tenant;
        RoleId role;
        uint64_t enabled;
    };
    struct Wide {
        uint32_t tenant;
        RoleId role;
        ModuleSet enabled;
    };
    enum : uint8_t { kActive = 1, kSuperAdmin = 2, kOnHeap = 4, kTimed = 8 };

    // Fills a with the user's own facts.
    void user_facts(Access &a) const;
    // Takes o's contents (o is left empty, owning nothing).
    void take(UserEntry &o) noexcept;
    // Frees the heap block, if any.
    void release() noexcept;

    RoleId platform_role_ = kNoRole;
    uint8_t flags_ = 0;
    uint32_t count_ = 0; // active memberships
    union {
        Narrow narrow_[kInline];
        Wide *wide_; // count_ of them, sorted by tenant, when kOnHeap
    };
};

} // namespace modaccess
