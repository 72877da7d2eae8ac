// A bounded map from uuid to shared, immutable entries, replaced by CLOCK: the
// storage of the access cache (cache.cpp). Pure C++.
#pragma once

#include "clinres/access/model.hpp"

#include <memory>
#include <vector>

namespace modaccess {

// A map from uuid to shared entries, bounded in size, replaced by CLOCK.
// The index is an open-addressing table (linear probing, load <= 1/2) whose buckets
// carry what a hit needs (key, scope, entry pointer, CLOCK bit), so a hit touches one
// bucket and the entry; the slots own the entries.
template <typename V> class ClockMap {
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
    void put(const Uuid &key, uint64_t scope, std::shared_ptr<const V> value, size_t capacity)
    {
        if (Bucket *b = bucket(key)) {
            *b = Bucket{key, value.get(), scope, b->slot, true};
            slots_[b->slot].value = std::move(value);
            return;
        }
        uint32_t i = allocate(capacity);
        slots_[i] = Slot{key, std::move(value)};
        insert(Bucket{key, slots_[i].value.get(), scope, i, true});
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
    static constexpr size_t kInitialTable = 64;

    size_t mask() const { return table_.size() - 1; }
    size_t home(const Uuid &key) const { return UuidHash()(key) & mask(); }

    // The bucket of key, or null.
    Bucket *bucket(const Uuid &key)
    {
        for (size_t pos = home(key);; pos = (pos + 1) & mask()) {
            Bucket &b = table_[pos];
            if (b.value == nullptr)
                return nullptr;
            if (b.key == key)
                return &b;
        }
    }

    void insert(const Bucket &entry)
    {
        if (slots_.size() * 2 > table_.size())
            grow();
        size_t pos = home(entry.key);
        while (table_[pos].value != nullptr)
            pos = (pos + 1) & mask();
        table_[pos] = entry;
    }

    // Doubles the table and re-inserts every bucket.
    void grow()
    {
        std::vector<Bucket> old(table_.size() * 2, Bucket{});
        old.swap(table_);
        for (const Bucket &b : old)
            if (b.value != nullptr) {
                size_t pos = home(b.key);
                while (table_[pos].value != nullptr)
                    pos = (pos + 1) & mask();
                table_[pos] = b;
            }
    }

    // Empties bucket b, shifting back the buckets that probed past it.
    void erase(Bucket *b)
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

    // A slot for a new entry: a fresh one, or the CLOCK victim's.
    uint32_t allocate(size_t capacity)
    {
        if (slots_.size() < capacity) {
            slots_.emplace_back();
            return static_cast<uint32_t>(slots_.size() - 1);
        }
        for (;;) {
            uint32_t i = static_cast<uint32_t>(hand_);
            hand_ = (hand_ + 1) % slots_.size();
            Bucket *b = bucket(slots_[i].key);
            if (b->referenced) {
                b->referenced = false;
                continue;
            }
            erase(b);
            ++evictions_;
            return i;
        }
    }

    std::vector<Slot> slots_;
    std::vector<Bucket> table_ = std::vector<Bucket>(kInitialTable, Bucket{});
    size_t hand_ = 0;
    uint64_t evictions_ = 0;
};

} // namespace modaccess
