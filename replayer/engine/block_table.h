// The replay engine's table of live heap blocks: recorded pointer -> replayed block.
//
// An open-addressing hash table (linear probing, Fibonacci hashing, backward-shift deletion), so a
// lookup is one or two cache lines and neither insertion nor removal allocates; it replaced a
// std::unordered_map whose node allocation and pointer chasing cost ~15 % of a replay.
//
// Contract: keys are recorded pointers; any value including 0 is accepted (0 lives in a side slot
// because it is the empty marker). Memory is proportional to the most blocks ever live at once
// (the table grows at half load and never shrinks), not to the trace length. Pointers returned
// by Find stay valid until the next Insert or Erase.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace vmreplay::replay {

struct HeapBlock {
  void* p = nullptr;  // nullptr: dead (allocation failed in replay)
  uint64_t size = 0;
};

class BlockTable {
 public:
  BlockTable() { Rehash(kInitialCapacity); }

  // The block recorded at `key`, or nullptr.
  HeapBlock* Find(uint64_t key) {
    if (key == 0) return has_zero_ ? &zero_ : nullptr;
    for (size_t i = Slot(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].block;
      if (slots_[i].key == 0) return nullptr;
    }
  }

  // Inserts `block` at `key` unless present. Returns the slot and whether it was inserted.
  std::pair<HeapBlock*, bool> TryEmplace(uint64_t key, const HeapBlock& block) {
    if (key == 0) {
      const bool inserted = !has_zero_;
      if (inserted) zero_ = block;
      has_zero_ = true;
      return {&zero_, inserted};
    }
    if (2 * (size_ + 1) > capacity_) Rehash(2 * capacity_);
    size_t i = Slot(key);
    for (; slots_[i].key != 0; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return {&slots_[i].block, false};
    }
    slots_[i] = Entry{key, block};
    ++size_;
    return {&slots_[i].block, true};
  }

  // Removes `key` if present.
  void Erase(uint64_t key);
  // Removes `key` if present and copies its block to *out first; one probe for both.
  bool Take(uint64_t key, HeapBlock* out);

  // Starts loading the slot where a lookup of `key` begins. A replay knows its next events'
  // pointers: on a recording with ~65 k blocks live this made replay 15-20 % faster; on a table
  // small enough to stay in cache it only costs, hence PrefetchPays. An asm prefetch: GCC 12
  // drops a __builtin_prefetch that is all a branch does.
  bool PrefetchPays() const { return capacity_ >= kPrefetchCapacity; }
  void Prefetch(uint64_t key) const {
#if defined(__x86_64__)
    asm volatile("prefetcht0 %0" : : "m"(slots_[Slot(key)]));
#else
    __builtin_prefetch(&slots_[Slot(key)]);
#endif
  }

  size_t size() const { return size_ + (has_zero_ ? 1 : 0); }

  // Calls f(key, block) for every entry, in no particular order.
  template <typename F>
  void ForEach(F&& f) const {
    if (has_zero_) f(uint64_t{0}, zero_);
    for (size_t i = 0; i < capacity_; ++i) {
      if (slots_[i].key != 0) f(slots_[i].key, slots_[i].block);
    }
  }

  void Clear() {
    slots_.reset();
    capacity_ = 0;
    Rehash(kInitialCapacity);
    has_zero_ = false;
  }

 private:
  struct Entry {
    uint64_t key = 0;  // 0: empty
    HeapBlock block;
  };
  static constexpr size_t kInitialCapacity = 1024;              // power of two
  static constexpr size_t kPrefetchCapacity = size_t{1} << 15;  // 768 KiB of slots

  size_t Slot(uint64_t key) const {
    // Fibonacci hashing: heap pointers differ in their middle bits; the multiply spreads them.
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void Rehash(size_t capacity);
  // The slot holding `key` (not 0), or capacity_ if absent.
  size_t IndexOf(uint64_t key) const;
  // Empties slot i, pulling later members of its probe run back. REQUIRES: slot i is in use.
  void EraseAt(size_t i);

  // Zeroed slot storage; large tables on transparent huge pages where the system has them.
  struct SlotsDeleter {
    size_t bytes;  // 0: calloc'd (no initialiser: unique_ptr needs it default-constructible here)
    void operator()(Entry* p) const;
  };
  static std::unique_ptr<Entry[], SlotsDeleter> AllocateSlots(size_t capacity);

  std::unique_ptr<Entry[], SlotsDeleter> slots_;
  size_t capacity_ = 0;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;  // entries in slots_
  bool has_zero_ = false;
  HeapBlock zero_;
};

}  // namespace vmreplay::replay
