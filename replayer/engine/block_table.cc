#include "replayer/engine/block_table.h"

#include <bit>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace vmreplay::replay {

size_t BlockTable::IndexOf(uint64_t key) const {
  for (size_t i = Slot(key);; i = (i + 1) & mask_) {
    if (slots_[i].key == key) return i;
    if (slots_[i].key == 0) return capacity_;
  }
}

void BlockTable::Erase(uint64_t key) {
  if (key == 0) {
    has_zero_ = false;
    return;
  }
  const size_t i = IndexOf(key);
  if (i != capacity_) EraseAt(i);
}

bool BlockTable::Take(uint64_t key, HeapBlock* out) {
  if (key == 0) {
    if (!has_zero_) return false;
    *out = zero_;
    has_zero_ = false;
    return true;
  }
  const size_t i = IndexOf(key);
  if (i == capacity_) return false;
  *out = slots_[i].block;
  EraseAt(i);
  return true;
}

void BlockTable::EraseAt(size_t i) {
  // Backward-shift deletion: pull later members of the probe run into the hole, so lookups never
  // need tombstones.
  size_t hole = i;
  for (size_t j = (i + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
    const size_t home = Slot(slots_[j].key);
    // Movable when its home is not in (hole, j] (cyclically).
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole].key = 0;
  --size_;
}

namespace {
// From this size on a table gets pages of its own, on huge pages where possible: a replay looks
// up a random slot per heap call, and with 4 KiB pages each lookup of a table of a few MiB
// (tens of thousands of live blocks) also missed the TLB, costly under virtualisation.
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

std::unique_ptr<BlockTable::Entry[], BlockTable::SlotsDeleter> BlockTable::AllocateSlots(
    size_t capacity) {
  const size_t bytes = capacity * sizeof(Entry);
#if defined(__linux__)
  if (bytes >= kHugePage) {
    const size_t mapped = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    // Over-map by one huge page so that the slots can start on a huge-page boundary.
    void* p = mmap(nullptr, mapped + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    const auto base = reinterpret_cast<uintptr_t>(p);
    const uintptr_t aligned = (base + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned != base) munmap(p, aligned - base);
    const size_t tail = base + mapped + kHugePage - (aligned + mapped);
    if (tail != 0) munmap(reinterpret_cast<void*>(aligned + mapped), tail);
    madvise(reinterpret_cast<void*>(aligned), mapped, MADV_HUGEPAGE);  // a hint: may be refused
    // Anonymous memory is zero: every slot is empty (key 0) and every block {nullptr, 0}.
    return {reinterpret_cast<Entry*>(aligned), SlotsDeleter{mapped}};
  }
#endif
  void* p = std::calloc(capacity, sizeof(Entry));
  if (p == nullptr) throw std::bad_alloc();
  return {static_cast<Entry*>(p), SlotsDeleter{0}};
}

void BlockTable::SlotsDeleter::operator()(Entry* p) const {
#if defined(__linux__)
  if (bytes != 0) {
    munmap(p, bytes);
    return;
  }
#endif
  std::free(p);
}

void BlockTable::Rehash(size_t capacity) {
  std::unique_ptr<Entry[], SlotsDeleter> old = std::move(slots_);
  const size_t old_capacity = capacity_;
  slots_ = AllocateSlots(capacity);
  capacity_ = capacity;
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
  size_ = 0;
  for (size_t i = 0; i < old_capacity; ++i) {
    if (old[i].key == 0) continue;
    size_t s = Slot(old[i].key);
    while (slots_[s].key != 0) s = (s + 1) & mask_;
    slots_[s] = old[i];
    ++size_;
  }
}

}  // namespace vmreplay::replay
