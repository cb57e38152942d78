#include "replayer/block_table.h"

#include <bit>

namespace vmreplay::replay {

void BlockTable::Erase(uint64_t key) {
  if (key == 0) {
    has_zero_ = false;
    return;
  }
  size_t i = Slot(key);
  while (slots_[i].key != key) {
    if (slots_[i].key == 0) return;
    i = (i + 1) & mask_;
  }
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

void BlockTable::Rehash(size_t capacity) {
  std::unique_ptr<Entry[]> old = std::move(slots_);
  const size_t old_capacity = capacity_;
  slots_ = std::make_unique<Entry[]>(capacity);
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
