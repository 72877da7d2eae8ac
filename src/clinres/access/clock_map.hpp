// A bounded map from uuid to shared, immutable entries, replaced by CLOCK: the
// storage of the access cache (cache.cpp). Pure C++.
#pragma once

#include "clinres/access/model.hpp"

#include <memory>
#include <new>
#include <vector>

namespace modaccess {

// A map from uuid to shared entries, bounded in size, replaced by CLOCK.
// The index is an open-addressing table (linear probing, load <= 1/2) whose buckets
// carry what a hit needs (key, scope, entry pointer, CLOCK bit), so a hit touches one
// bucket and the entry; the slots own the entries. put gives the strong guarantee:
// everything that allocates happens before the first change (Alloc lets tests make
// allocations fail).
template <typename V, typename Alloc = std::allocator<char>> class ClockMap {
public:
    // The entry for key if cached and answers(scope), else null; no reference counting.
    template <typename Answers> const V *peek(const Uuid &key, Answers answers)
    {
        Bucket *b = bucket(key);
        if (b == nullptr || !answers(b->scope))
            return nullptr;
        b->referenced = true;
        return b->value;
    }

    // The entry for key if cached and answers(scope), shared so it outlives the map.
    template <typename Answers> std::shared_ptr<const V> find(const Uuid &key, Answers answers)
    {
        Bucket *b = bucket(key);
        if (b == nullptr || !answers(b->scope))
            return nullptr;
        b->referenced = true;
        return slots_[b->slot].value;
    }

    // Stores value for key (replacing an old entry, or evicting one when capacity is reached).
    // If it throws (an allocation failed), the map is as it was.
    void put(const Uuid &key, uint64_t scope, std::shared_ptr<const V> value, size_t capacity)
    {
        if (Bucket *b = bucket(key)) {
            *b = Bucket{key, value.get(), scope, b->slot, true};
            slots_[b->slot].value = std::move(value);
            return;
        }
        uint32_t i;
        if (slots_.size() < capacity) {
            if ((slots_.size() + 1) * 2 > table_.size())
                grow();            // a bigger index with the same contents, or nothing changed
            slots_.emplace_back(); // the last step that can throw
            i = static_cast<uint32_t>(slots_.size() - 1);
        } else {
            i = evict();
        }
        slots_[i] = Slot{key, std::move(value)};
        place(Bucket{key, slots_[i].value.get(), scope, i, true});
    }

    // Removes key's entry if cached (the last slot moves into its place).
    void erase(const Uuid &key) noexcept
    {
        Bucket *b = bucket(key);
        if (b == nullptr)
            return;
        uint32_t hole = b->slot;
        unlink(b);
        uint32_t last = static_cast<uint32_t>(slots_.size() - 1);
        if (hole != last) {
            slots_[hole] = std::move(slots_[last]);
            bucket(slots_[hole].key)->slot = hole;
        }
        slots_.pop_back();
        if (hand_ >= slots_.size())
            hand_ = 0;
    }

    void clear()
    {
        slots_.clear();
        table_.assign(kInitialTable, Bucket{});
        hand_ = 0;
    }

    size_t size() const { return slots_.size(); }
    bool over(size_t capacity) const { return slots_.size() > capacity; }
    uint64_t evictions() const { return evictions_; }

    // Approximate bytes held, with value_bytes giving what one value owns.
    template <typename F> uint64_t bytes(F value_bytes) const
    {
        uint64_t b = slots_.capacity() * sizeof(Slot) + table_.capacity() * sizeof(Bucket);
        for (const Slot &s : slots_)
            b += sizeof(V) + 2 * sizeof(void *) + value_bytes(*s.value);
        return b;
    }

private:
    struct Bucket {
        Uuid key;
        const V *value; // null: empty bucket
        uint64_t scope; // the caller's tag for how long the entry answers
        uint32_t slot;
        bool referenced;
    };
    struct Slot {
        Uuid key;
        std::shared_ptr<const V> value;
    };
    using SlotVector = std::vector<Slot, typename std::allocator_traits<Alloc>::template rebind_alloc<Slot>>;
    using BucketVector =
        std::vector<Bucket, typename std::allocator_traits<Alloc>::template rebind_alloc<Bucket>>;
    static constexpr size_t kInitialTable = 64;

    size_t mask() const { return table_.size() - 1; }
    size_t home(const Uuid &key) const { return UuidHash()(key) & mask(); }

    // The bucket of key, or null.
    Bucket *bucket(const Uuid &key) noexcept
    {
        for (size_t pos = home(key);; pos = (pos + 1) & mask()) {
            Bucket &b = table_[pos];
            if (b.value == nullptr)
                return nullptr;
            if (b.key == key)
                return &b;
        }
    }

    // Puts entry into its first free bucket of the index (which has room).
    void place(const Bucket &entry) noexcept { place_in(table_, entry); }

    // Puts entry into its first free bucket of table.
    void place_in(BucketVector &table, const Bucket &entry) const noexcept
    {
        size_t m = table.size() - 1;
        size_t pos = UuidHash()(entry.key) & m;
        while (table[pos].value != nullptr)
            pos = (pos + 1) & m;
        table[pos] = entry;
    }

    // Doubles the table: builds the new one, then swaps it in (throws before any change).
    void grow()
    {
        BucketVector bigger(table_.size() * 2, Bucket{}, table_.get_allocator());
        for (const Bucket &b : table_)
            if (b.value != nullptr)
                place_in(bigger, b);
        table_.swap(bigger);
    }

    // Empties bucket b, shifting back the buckets that probed past it.
    void unlink(Bucket *b) noexcept
    {
        size_t pos = static_cast<size_t>(b - table_.data());
        table_[pos] = Bucket{};
        for (size_t next = (pos + 1) & mask(); table_[next].value != nullptr; next = (next + 1) & mask()) {
            size_t h = home(table_[next].key);
            bool stays = pos < next ? (pos < h && h <= next) : (pos < h || h <= next);
            if (stays)
                continue;
            table_[pos] = table_[next];
            table_[next] = Bucket{};
            pos = next;
        }
    }

    // The slot of the CLOCK victim, emptied of its index entry (the map is full).
    uint32_t evict() noexcept
    {
        for (;;) {
            uint32_t i = static_cast<uint32_t>(hand_);
            hand_ = (hand_ + 1) % slots_.size();
            Bucket *b = bucket(slots_[i].key);
            if (b->referenced) {
                b->referenced = false;
                continue;
            }
            unlink(b);
            ++evictions_;
            return i;
        }
    }

    SlotVector slots_;
    BucketVector table_ = BucketVector(kInitialTable, Bucket{});
    size_t hand_ = 0;
    uint64_t evictions_ = 0;
};

} // namespace modaccess
