// An open-addressing index from uuid to a slot number, 8 bytes a bucket: the index of
// the access cache's maps (clock_map.hpp, tenant_ids.hpp). Pure C++.
#pragma once

#include "clinres/core/pure.hpp"
#include "clinres/core/uuid.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace modaccess {

using clinres::Uuid;
using clinres::UuidHash;

// The 32-bit hash of a uuid that places it in a UuidIndex.
inline uint32_t hash32(const Uuid &key)
{
    return static_cast<uint32_t>(UuidHash()(key));
}

// Maps uuids to slot numbers that the owner gives out; the owner keeps each slot's key.
// Linear probing, load <= 3/4. A bucket holds the key's 32-bit hash (its home, and a tag
// that spares a look at the slot's key on most mismatches) and the slot, so growing and
// erasing never read keys. Only reserve() allocates (Alloc lets tests make it fail).
template <typename Alloc = std::allocator<char>> class UuidIndex {
public:
    static constexpr uint32_t npos = UINT32_MAX;

    // The slot of key (whose hash32 is hash), or npos; key_at(slot) gives a slot's key.
    template <typename KeyAt> uint32_t find(const Uuid &key, uint32_t hash, KeyAt key_at) const
    {
        for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
            const Bucket &b = table_[pos];
            if (b.slot == npos)
                return npos;
            if (b.hash == hash && key_at(b.slot) == key)
                return b.slot;
        }
    }

    // Makes room for n entries in all, growing the table; throws before any change.
    void reserve(size_t n)
    {
        size_t size = table_.size();
        while (n * 4 > size * 3)
            size *= 2;
        if (size == table_.size())
            return;
        BucketVector bigger(size, Bucket{}, table_.get_allocator());
        for (const Bucket &b : table_)
            if (b.slot != npos)
                place(bigger, b);
        table_.swap(bigger);
        mask_ = size - 1;
    }

    // Adds slot under hash (the table has room: reserve).
    void insert(uint32_t hash, uint32_t slot) noexcept { place(table_, Bucket{hash, slot}); }

    // Renumbers the entry of slot `from` (hash is its key's) to `to`.
    void renumber(uint32_t hash, uint32_t from, uint32_t to) noexcept
    {
        table_[position(hash, from)].slot = to;
    }

    // Removes the entry of slot (hash is its key's), shifting back the buckets that probed past it.
    void erase(uint32_t hash, uint32_t slot) noexcept
    {
        size_t pos = position(hash, slot);
        table_[pos] = Bucket{};
        for (size_t next = (pos + 1) & mask_; table_[next].slot != npos; next = (next + 1) & mask_) {
            size_t h = table_[next].hash & mask_;
            bool stays = pos < next ? (pos < h && h <= next) : (pos < h || h <= next);
            if (stays)
                continue;
            table_[pos] = table_[next];
            table_[next] = Bucket{};
            pos = next;
        }
    }

    // Forgets every entry (keeps the table's size).
    void clear() noexcept { std::fill(table_.begin(), table_.end(), Bucket{}); }

    // Forgets every entry and gives back a grown table (keeps it, emptied, if the first
    // size cannot be allocated).
    void release() noexcept
    {
        if (table_.size() == kInitialTable) {
            clear();
            return;
        }
        try {
            BucketVector first(kInitialTable, Bucket{}, table_.get_allocator());
            table_.swap(first);
            mask_ = kInitialTable - 1;
        } catch (const std::bad_alloc &) {
            clear();
        }
    }

    size_t buckets() const { return table_.size(); }
    uint64_t bytes() const { return table_.capacity() * sizeof(Bucket); }

private:
    struct Bucket {
        uint32_t hash = 0;
        uint32_t slot = npos; // npos: empty
    };
    using BucketVector =
        std::vector<Bucket, typename std::allocator_traits<Alloc>::template rebind_alloc<Bucket>>;
    static constexpr size_t kInitialTable = 16;

    // The position of slot's bucket (it is in the table).
    size_t position(uint32_t hash, uint32_t slot) const noexcept
    {
        size_t pos = hash & mask_;
        while (table_[pos].slot != slot)
            pos = (pos + 1) & mask_;
        return pos;
    }

    // Puts b into its first free bucket of table.
    static void place(BucketVector &table, const Bucket &b) noexcept
    {
        size_t m = table.size() - 1;
        size_t pos = b.hash & m;
        while (table[pos].slot != npos)
            pos = (pos + 1) & m;
        table[pos] = b;
    }

    BucketVector table_ = BucketVector(kInitialTable, Bucket{});
    size_t mask_ = kInitialTable - 1;
};

} // namespace modaccess
