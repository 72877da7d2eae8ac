// A bounded map from uuid to entries stored by value, replaced by CLOCK: the storage of
// the access cache (cache.cpp). Pure C++.
#pragma once

#include "clinres/access/uuid_index.hpp"

#include <new>
#include <utility>

namespace modaccess {

// What a value owns on the heap besides itself (HeapBytes of ClockMap): nothing.
struct NoHeapBytes {
    template <typename V> size_t operator()(const V &) const { return 0; }
};

// A map from uuid to values, bounded in size, replaced by CLOCK. Entries live by value in
// slots 0..size-1, allocated in chunks of kChunk (no per-entry allocation, little slack);
// a UuidIndex finds a key's slot, and one bit per slot is CLOCK's "referenced". A hit
// reads a bucket and the slot. A pointer from peek is valid until the map next changes:
// callers copy out what they need. put gives the strong guarantee: everything that
// allocates happens before the first change (Alloc lets tests make allocations fail).
// V's move constructor, move assignment and destructor must not throw. bytes() is kept
// as entries come and go: slots, index and what HeapBytes says each value owns.
template <typename V, typename Alloc = std::allocator<char>, typename HeapBytes = NoHeapBytes>
class ClockMap {
public:
    ClockMap() = default;
    ClockMap(const ClockMap &) = delete;
    ClockMap &operator=(const ClockMap &) = delete;
    ~ClockMap() { clear(); }

    // The entry for key if cached and answers(scope), else null.
    template <typename Answers> const V *peek(const Uuid &key, Answers answers) noexcept
    {
        uint32_t i = index_.find(key, hash32(key), key_at());
        if (i == npos)
            return nullptr;
        Slot &s = slot(i);
        if (!answers(s.scope))
            return nullptr;
        mark(i, true);
        return &s.value;
    }

    // Stores value for key (replacing an old entry, or evicting one when capacity is reached).
    // If it throws (an allocation failed), the map is as it was.
    void put(const Uuid &key, uint64_t scope, V &&value, size_t capacity)
    {
        uint32_t hash = hash32(key);
        uint32_t i = index_.find(key, hash, key_at());
        if (i != npos) {
            heap_ -= HeapBytes()(slot(i).value);
            heap_ += HeapBytes()(value);
            slot(i).scope = scope;
            slot(i).value = std::move(value);
            mark(i, true);
            return;
        }
        size_t incoming = HeapBytes()(value);
        if (size_ < capacity) {
            index_.reserve(size_ + 1); // a bigger index with the same contents, or nothing changed
            if (size_ == chunks_.size() * kChunk)
                add_chunk(); // the last step that can throw
            i = static_cast<uint32_t>(size_);
            new (&slot(i)) Slot{key, scope, std::move(value)};
            ++size_;
        } else {
            i = evict();
            Slot &s = slot(i);
            heap_ -= HeapBytes()(s.value);
            s.key = key;
            s.scope = scope;
            s.value = std::move(value);
        }
        index_.insert(hash, i);
        mark(i, true);
        heap_ += incoming;
    }

    // Removes key's entry if cached (the last slot moves into its place).
    void erase(const Uuid &key) noexcept
    {
        uint32_t hash = hash32(key);
        uint32_t hole = index_.find(key, hash, key_at());
        if (hole == npos)
            return;
        index_.erase(hash, hole);
        remove_slot(hole);
    }

    // Removes the entries whose key satisfies erase(key).
    template <typename F> void erase_if(F erase) noexcept
    {
        for (size_t n = size_; n-- > 0;) {
            uint32_t i = static_cast<uint32_t>(n);
            if (!erase(slot(i).key))
                continue;
            index_.erase(hash32(slot(i).key), i);
            remove_slot(i); // the last slot, already looked at, moves into i
        }
    }

    // Evicts entries (CLOCK) until the map holds at most max_bytes, and frees the chunks
    // of slots left unused (and the index, if every entry had to go).
    void trim(uint64_t max_bytes) noexcept
    {
        while (size_ > 0 && bytes() > max_bytes) {
            uint32_t victim = evict();
            remove_slot(victim);
            while (chunks_.size() * kChunk >= size_ + kChunk) {
                ChunkAlloc alloc(chunks_.get_allocator());
                std::allocator_traits<ChunkAlloc>::deallocate(alloc, chunks_.back(), 1);
                chunks_.pop_back();
            }
        }
        if (size_ == 0)
            clear();
    }

    // Removes every entry and frees the slots and the grown index.
    void clear() noexcept
    {
        for (size_t i = 0; i < size_; ++i)
            slot(static_cast<uint32_t>(i)).~Slot();
        ChunkAlloc alloc(chunks_.get_allocator());
        for (Chunk *c : chunks_)
            std::allocator_traits<ChunkAlloc>::deallocate(alloc, c, 1);
        ChunkVector().swap(chunks_);
        index_.release();
        size_ = hand_ = 0;
        heap_ = 0;
    }

    // Calls f(value) for every entry.
    template <typename F> void for_each(F f) const
    {
        for (size_t i = 0; i < size_; ++i)
            f(slot(static_cast<uint32_t>(i)).value);
    }

    size_t size() const { return size_; }
    bool over(size_t capacity) const { return size_ > capacity; }
    uint64_t evictions() const { return evictions_; }

    // Bytes held: index, chunks of slots, and what the values own besides.
    uint64_t bytes() const
    {
        // NOLINTNEXTLINE(bugprone-sizeof-expression): chunks_ holds pointers to chunks
        return index_.bytes() + chunks_.capacity() * sizeof(Chunk *) + chunks_.size() * sizeof(Chunk) + heap_;
    }

    // About what one more entry adds to bytes() besides its value's heap (its slot, its share of the index).
    static constexpr size_t kEntryBytes = sizeof(Uuid) + sizeof(uint64_t) + sizeof(V) + 16;

private:
    // Empties slot hole, whose index entry is gone: the last slot moves into its place.
    void remove_slot(uint32_t hole) noexcept
    {
        heap_ -= HeapBytes()(slot(hole).value);
        uint32_t last = static_cast<uint32_t>(size_ - 1);
        if (hole != last) {
            Slot &h = slot(hole), &l = slot(last);
            h.key = l.key;
            h.scope = l.scope;
            h.value = std::move(l.value);
            mark(hole, referenced(last));
            index_.renumber(hash32(h.key), last, hole);
        }
        slot(last).~Slot();
        --size_;
        if (hand_ >= size_)
            hand_ = 0;
    }

    static constexpr uint32_t npos = UuidIndex<Alloc>::npos;
    static constexpr size_t kChunk = 128;
    struct Slot {
        Uuid key;
        uint64_t scope; // the caller's tag for how long the entry answers
        V value;
    };
    struct Chunk {
        uint64_t referenced[kChunk / 64];
        alignas(Slot) unsigned char slots[kChunk * sizeof(Slot)];
    };
    using ChunkAlloc = typename std::allocator_traits<Alloc>::template rebind_alloc<Chunk>;
    using ChunkVector =
        std::vector<Chunk *, typename std::allocator_traits<Alloc>::template rebind_alloc<Chunk *>>;

    Slot &slot(uint32_t i) { return reinterpret_cast<Slot *>(chunks_[i / kChunk]->slots)[i % kChunk]; }
    const Slot &slot(uint32_t i) const
    {
        return reinterpret_cast<const Slot *>(chunks_[i / kChunk]->slots)[i % kChunk];
    }

    // How the index reads a slot's key.
    auto key_at()
    {
        return [this](uint32_t i) -> const Uuid & { return slot(i).key; };
    }

    bool referenced(uint32_t i) const
    {
        return chunks_[i / kChunk]->referenced[i % kChunk / 64] >> (i % 64) & 1;
    }
    void mark(uint32_t i, bool on) noexcept
    {
        uint64_t &w = chunks_[i / kChunk]->referenced[i % kChunk / 64];
        w = on ? w | uint64_t(1) << (i % 64) : w & ~(uint64_t(1) << (i % 64));
    }

    // Allocates one more chunk of slots; throws before any change.
    void add_chunk()
    {
        if (chunks_.size() == chunks_.capacity())
            chunks_.reserve(std::max<size_t>(8, 2 * chunks_.size()));
        ChunkAlloc alloc(chunks_.get_allocator());
        Chunk *c = std::allocator_traits<ChunkAlloc>::allocate(alloc, 1);
        std::fill(std::begin(c->referenced), std::end(c->referenced), 0);
        chunks_.push_back(c); // no allocation: reserved
    }

    // The slot of the CLOCK victim, emptied of its index entry (the map is full).
    uint32_t evict() noexcept
    {
        for (;;) {
            uint32_t i = static_cast<uint32_t>(hand_);
            hand_ = (hand_ + 1) % size_;
            if (referenced(i)) {
                mark(i, false);
                continue;
            }
            index_.erase(hash32(slot(i).key), i);
            ++evictions_;
            return i;
        }
    }

    UuidIndex<Alloc> index_;
    ChunkVector chunks_;
    size_t size_ = 0;
    size_t hand_ = 0;
    uint64_t evictions_ = 0;
    uint64_t heap_ = 0; // what HeapBytes says the values own
};

} // namespace modaccess
