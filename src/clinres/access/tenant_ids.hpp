// Small integer ids for tenant uuids, so that a cached membership names its tenant in 4
// bytes instead of 16 (user_entry.hpp). Pure C++.
#pragma once

#include "clinres/access/uuid_index.hpp"

namespace modaccess {

// Gives each tenant uuid it is shown an id 0, 1, 2, ... for as long as it lives; ids are
// never reused, so the owner clears it together with every entry that holds its ids.
template <typename Alloc = std::allocator<char>> class TenantIds {
public:
    static constexpr uint32_t npos = UuidIndex<Alloc>::npos;

    // The id of tenant, or npos if it has none.
    uint32_t find(const Uuid &tenant) const { return index_.find(tenant, hash32(tenant), key_at()); }

    // The id of tenant, given one if it has none; if it throws, nothing changed.
    uint32_t intern(const Uuid &tenant)
    {
        uint32_t hash = hash32(tenant);
        uint32_t id = index_.find(tenant, hash, key_at());
        if (id != npos)
            return id;
        index_.reserve(tenants_.size() + 1);
        if (tenants_.size() == tenants_.capacity())
            tenants_.reserve(2 * tenants_.size() + 16);
        id = static_cast<uint32_t>(tenants_.size());
        tenants_.push_back(tenant); // no allocation: reserved
        index_.insert(hash, id);
        return id;
    }

    // Forgets every id.
    void clear() noexcept
    {
        tenants_.clear();
        index_.clear();
    }

    size_t size() const { return tenants_.size(); }
    uint64_t bytes() const { return index_.bytes() + tenants_.capacity() * sizeof(Uuid); }

private:
    // How the index reads an id's tenant.
    auto key_at() const
    {
        return [this](uint32_t id) -> const Uuid & { return tenants_[id]; };
    }

    UuidIndex<Alloc> index_;
    std::vector<Uuid, typename std::allocator_traits<Alloc>::template rebind_alloc<Uuid>> tenants_;
};

} // namespace modaccess
