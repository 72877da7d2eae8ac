// Packing a user's facts into a cache entry, and reading its access in a tenant back out.
#include "clinres/access/user_entry.hpp"

#include <algorithm>

namespace modaccess {

UserEntry::UserEntry(const UserFacts &u, const std::vector<uint32_t> &tenant_ids, bool wide)
    : platform_role_(u.platform_role),
      flags_(static_cast<uint8_t>((u.active ? kActive : 0) | (u.super_admin ? kSuperAdmin : 0) |
                                  (u.timed ? kTimed : 0)))
{
    for (const MemberFacts &m : u.memberships)
        count_ += m.active;
    if (count_ > kInline || (wide && count_ > 0)) {
        wide_ = new Wide[count_]; // the only allocation; before it nothing is owned
        flags_ |= kOnHeap;
    }
    uint32_t n = 0;
    for (size_t i = 0; i < u.memberships.size(); ++i) {
        const MemberFacts &m = u.memberships[i];
        if (!m.active)
            continue;
        ModuleSet enabled = m.configured ? m.enabled : ModuleSet::all();
        if (flags_ & kOnHeap)
            wide_[n++] = Wide{tenant_ids[i], m.role, enabled};
        else
            narrow_[n++] = Narrow{tenant_ids[i], m.role, enabled.words[0]};
    }
    if (flags_ & kOnHeap)
        std::sort(wide_, wide_ + count_, [](const Wide &a, const Wide &b) { return a.tenant < b.tenant; });
}

UserEntry::UserEntry(UserEntry &&o) noexcept
{
    take(o);
}

UserEntry &UserEntry::operator=(UserEntry &&o) noexcept
{
    if (this != &o) {
        release();
        take(o);
    }
    return *this;
}

void UserEntry::take(UserEntry &o) noexcept
{
    platform_role_ = o.platform_role_;
    flags_ = o.flags_;
    count_ = o.count_;
    if (flags_ & kOnHeap)
        wide_ = o.wide_;
    else
        std::copy(o.narrow_, o.narrow_ + count_, narrow_);
    o.flags_ &= static_cast<uint8_t>(~kOnHeap); // o no longer owns the block
    o.count_ = 0;
}

UserEntry::~UserEntry()
{
    release();
}

void UserEntry::release() noexcept
{
    if (flags_ & kOnHeap)
        delete[] wide_;
    flags_ &= static_cast<uint8_t>(~kOnHeap);
    count_ = 0;
}

void UserEntry::user_facts(Access &a) const
{
    a.user_active = flags_ & kActive;
    a.super_admin = flags_ & kSuperAdmin;
    a.platform_role = platform_role_;
}

Access UserEntry::access_in(uint32_t tenant) const
{
    Access a;
    user_facts(a);
    if (!(flags_ & kOnHeap)) {
        for (uint32_t i = 0; i < count_; ++i)
            if (narrow_[i].tenant == tenant) {
                a.member = true;
                a.role = narrow_[i].role;
                a.enabled.words[0] = narrow_[i].enabled;
            }
        return a;
    }
    const Wide *begin = wide_, *end = wide_ + count_;
    const Wide *it =
        std::lower_bound(begin, end, tenant, [](const Wide &w, uint32_t t) { return w.tenant < t; });
    if (it != end && it->tenant == tenant) {
        a.member = true;
        a.role = it->role;
        a.enabled = it->enabled;
    }
    return a;
}

size_t UserEntry::heap_bytes() const
{
    return flags_ & kOnHeap ? count_ * sizeof(Wide) + 16 : 0; // 16: malloc's header and rounding
}

} // namespace modaccess
