#include "simulator/region_map.h"

#include <algorithm>
#include <cassert>

namespace vmreplay::sim {

namespace {

// Number of keys <= x in sorted a[0, n): branch-free binary search (the comparison feeds a
// conditional move, so unpredictable addresses cost no branch mispredictions) down to a window
// of kLinear keys, which are then counted with independent loads instead of a chain of
// dependent probes.
template <typename KeyOf>
size_t CountNotGreater(size_t n, uint64_t x, KeyOf key_of) {
  constexpr size_t kLinear = 16;
  size_t base = 0;
  while (n > kLinear) {
    const size_t half = n / 2;
    base = key_of(base + half - 1) <= x ? base + half : base;
    n -= half;
  }
  size_t count = base;
  for (size_t i = 0; i < n; ++i) count += key_of(base + i) <= x ? 1 : 0;
  return count;
}

}  // namespace

void RegionMap::UpperBoundPos(uint64_t addr, size_t* block, uint32_t* index) const {
  const uint64_t* keys = first_keys_.data();
  const size_t nb = CountNotGreater(first_keys_.size(), addr, [keys](size_t i) { return keys[i]; });
  if (nb == 0) {
    *block = 0;
    *index = 0;
    return;
  }
  const Block& blk = *blocks_[nb - 1];
  const uint64_t* block_keys = blk.keys;
  // The block is usually not in cache (random lookups over thousands of regions): request all of
  // its key lines at once so the binary search below waits for one miss, not one per probe.
  static_assert(sizeof(blk.keys) % 64 == 0);
  for (size_t line = 0; line < sizeof(blk.keys); line += 64) {
    __builtin_prefetch(reinterpret_cast<const char*>(block_keys) + line);
  }
  const uint32_t lo = static_cast<uint32_t>(
      CountNotGreater(blk.count, addr, [block_keys](size_t i) { return block_keys[i]; }));
  if (lo == blk.count) {
    *block = nb;
    *index = 0;
  } else {
    *block = nb - 1;
    *index = lo;
  }
}

RegionMap::iterator RegionMap::UpperBound(uint64_t addr) {
  size_t b;
  uint32_t i;
  UpperBoundPos(addr, &b, &i);
  return iterator(this, b, i);
}

RegionMap::const_iterator RegionMap::UpperBound(uint64_t addr) const {
  size_t b;
  uint32_t i;
  UpperBoundPos(addr, &b, &i);
  return const_iterator(this, b, i);
}

bool RegionMap::FingerHit(uint64_t addr, size_t* block, uint32_t* index) const {
  if (finger_version_ != version_) return false;
  const Block& blk = *blocks_[finger_block_];
  uint32_t i = finger_index_;
  if (addr < blk.keys[i]) {
    if (i == 0 || addr < blk.keys[i - 1]) return false;
    --i;
  } else if (addr >= blk.entries[i].second.end) {
    if (i + 1 >= blk.count || addr < blk.keys[i + 1]) return false;
    ++i;
  }
  if (addr >= blk.entries[i].second.end) return false;  // In a gap.
  *block = finger_block_;
  *index = i;
  return true;
}

RegionMap::iterator RegionMap::Find(uint64_t addr) {
  const_iterator it = static_cast<const RegionMap*>(this)->Find(addr);
  return iterator(this, it.block_, it.index_);
}

RegionMap::const_iterator RegionMap::Find(uint64_t addr) const {
  size_t b;
  uint32_t i;
  if (FingerHit(addr, &b, &i)) return const_iterator(this, b, i);
  const_iterator it = UpperBound(addr);
  if (it == begin()) return end();
  --it;
  if (addr >= it->second.end) return end();
  SetFinger(it.block_, it.index_);
  return it;
}

RegionMap::iterator RegionMap::InsertAt(size_t block, uint32_t index, const Entry& entry) {
  ++size_;
  ++version_;
  if (blocks_.empty()) {
    blocks_.push_back(std::make_unique<Block>());
    first_keys_.push_back(entry.first);
    blocks_[0]->entries[0] = entry;
    blocks_[0]->keys[0] = entry.first;
    blocks_[0]->count = 1;
    return iterator(this, 0, 0);
  }
  if (block == blocks_.size()) {
    block = blocks_.size() - 1;
    index = blocks_[block]->count;
  } else if (index == 0 && block > 0 && blocks_[block - 1]->count < kBlockCapacity) {
    // Appending to the previous block shifts nothing.
    --block;
    index = blocks_[block]->count;
  }
  Block* blk = blocks_[block].get();
  if (blk->count == kBlockCapacity) {
    constexpr uint32_t kHalf = kBlockCapacity / 2;
    auto upper = std::make_unique<Block>();
    std::copy(blk->entries + kHalf, blk->entries + kBlockCapacity, upper->entries);
    std::copy(blk->keys + kHalf, blk->keys + kBlockCapacity, upper->keys);
    upper->count = kBlockCapacity - kHalf;
    blk->count = kHalf;
    first_keys_.insert(first_keys_.begin() + block + 1, upper->entries[0].first);
    blocks_.insert(blocks_.begin() + block + 1, std::move(upper));
    if (index > kHalf) {
      ++block;
      index -= kHalf;
      blk = blocks_[block].get();
    }
  }
  std::copy_backward(blk->entries + index, blk->entries + blk->count,
                     blk->entries + blk->count + 1);
  std::copy_backward(blk->keys + index, blk->keys + blk->count, blk->keys + blk->count + 1);
  blk->entries[index] = entry;
  blk->keys[index] = entry.first;
  ++blk->count;
  if (index == 0) first_keys_[block] = entry.first;
  SetFinger(block, index);
  return iterator(this, block, index);
}

void RegionMap::SplitAt(uint64_t addr) {
  size_t b;
  uint32_t i;
  UpperBoundPos(addr, &b, &i);
  iterator next(this, b, i);
  if (next == begin()) return;
  iterator prev = next;
  --prev;
  if (prev->first == addr || prev->second.end <= addr) return;
  Entry tail{addr, prev->second};
  prev->second.end = addr;
  InsertAt(b, i, tail);
}

RegionMap::iterator RegionMap::SplitRange(uint64_t start, uint64_t end) {
  SplitAt(end);
  SplitAt(start);
  iterator it = UpperBound(start);
  if (it != begin()) {
    iterator prev = it;
    --prev;
    if (prev->first == start) return prev;
  }
  return it;
}

RegionMap::iterator RegionMap::SplitWithin(iterator it, uint64_t start, uint64_t end) {
  assert(it->first <= start && end <= it->second.end && start < end);
  if (it->first < start && end < it->second.end &&
      blocks_[it.block_]->count + 2 <= kBlockCapacity) {
    // A hole in the middle (a page re-protected inside a region): both new entries go in with
    // one shift of the block's tail.
    Block& blk = *blocks_[it.block_];
    const uint32_t at = it.index_ + 1;
    std::copy_backward(blk.entries + at, blk.entries + blk.count, blk.entries + blk.count + 2);
    std::copy_backward(blk.keys + at, blk.keys + blk.count, blk.keys + blk.count + 2);
    Region& r = blk.entries[it.index_].second;
    blk.entries[at + 1] = Entry{end, r};
    blk.keys[at + 1] = end;
    r.end = start;
    blk.entries[at] = Entry{start, r};
    blk.entries[at].second.end = end;
    blk.keys[at] = start;
    blk.count += 2;
    size_ += 2;
    ++version_;
    SetFinger(it.block_, at);
    return iterator(this, it.block_, at);
  }
  if (end < it->second.end) {
    Entry tail{end, it->second};
    it->second.end = end;
    it = InsertAt(it.block_, it.index_ + 1, tail);
    --it;  // Back to the (possibly moved) original region.
  }
  if (it->first < start) {
    Entry middle{start, it->second};
    it->second.end = start;
    it = InsertAt(it.block_, it.index_ + 1, middle);
  }
  SetFinger(it.block_, it.index_);
  return it;
}

void RegionMap::CoalesceFrom(iterator first, uint64_t end) {
  iterator it = first;
  if (it != begin()) --it;
  const iterator anchor = it;  // Erasures below happen after it: stays valid.
  while (it != this->end() && it->first < end) {
    iterator next = it;
    ++next;
    if (next != this->end() && next->first == it->second.end &&
        next->second.SameAttributes(it->second)) {
      it->second.end = next->second.end;
      iterator after = next;
      ++after;
      Erase(next, after);  // Entries before `next` (so `it`) keep their positions.
      continue;
    }
    it = next;
  }
  if (anchor != this->end()) SetFinger(anchor.block_, anchor.index_);
}

void RegionMap::Insert(uint64_t start, const Region& region) {
  size_t b;
  uint32_t i;
  UpperBoundPos(start, &b, &i);
  iterator next(this, b, i);
  const bool merge_next =
      next != end() && next->first == region.end && next->second.SameAttributes(region);
  if (next != begin()) {
    iterator prev = next;
    --prev;
    if (prev->second.end == start && prev->second.SameAttributes(region)) {
      prev->second.end = merge_next ? next->second.end : region.end;
      if (merge_next) {
        iterator after = next;
        ++after;
        Erase(next, after);
      }
      return;
    }
  }
  if (merge_next) {
    SetStart(next, start);  // Grow the upper neighbour downwards in place.
    return;
  }
  InsertAt(b, i, Entry{start, region});
}

void RegionMap::Erase(const_iterator first, const_iterator last) {
  if (first == last) return;
  ++version_;
  const size_t b = first.block_;
  const uint32_t i = first.index_;
  const size_t lb = last.block_;
  const uint32_t li = last.index_;
  if (b == lb) {
    Block& blk = *blocks_[b];
    std::copy(blk.entries + li, blk.entries + blk.count, blk.entries + i);
    std::copy(blk.keys + li, blk.keys + blk.count, blk.keys + i);
    blk.count -= li - i;
    size_ -= li - i;
    if (blk.count == 0) {
      blocks_.erase(blocks_.begin() + b);
      first_keys_.erase(first_keys_.begin() + b);
    } else if (i == 0) {
      first_keys_[b] = blk.entries[0].first;
    }
    return;
  }
  // Head of the last block first, so earlier block indices stay valid.
  if (lb < blocks_.size() && li > 0) {
    Block& blk = *blocks_[lb];
    std::copy(blk.entries + li, blk.entries + blk.count, blk.entries);
    std::copy(blk.keys + li, blk.keys + blk.count, blk.keys);
    blk.count -= li;
    size_ -= li;
    first_keys_[lb] = blk.entries[0].first;  // count > 0: `last` named an entry.
  }
  for (size_t m = b + 1; m < lb; ++m) size_ -= blocks_[m]->count;
  blocks_.erase(blocks_.begin() + b + 1, blocks_.begin() + lb);
  first_keys_.erase(first_keys_.begin() + b + 1, first_keys_.begin() + lb);
  Block& blk = *blocks_[b];
  size_ -= blk.count - i;
  blk.count = i;
  if (i == 0) {
    blocks_.erase(blocks_.begin() + b);
    first_keys_.erase(first_keys_.begin() + b);
  }
}

void RegionMap::SetStart(iterator it, uint64_t new_start) {
  it->first = new_start;
  blocks_[it.block_]->keys[it.index_] = new_start;
  if (it.index_ == 0) first_keys_[it.block_] = new_start;
}

void RegionMap::Compact() {
  if (blocks_.size() <= 2 || size_ * 4 >= blocks_.size() * kBlockCapacity) return;
  constexpr uint32_t kFill = kBlockCapacity * 3 / 4;
  std::vector<std::unique_ptr<Block>> packed;
  std::vector<uint64_t> keys;
  for (const auto& blk : blocks_) {
    for (uint32_t i = 0; i < blk->count; ++i) {
      if (packed.empty() || packed.back()->count == kFill) {
        packed.push_back(std::make_unique<Block>());
        keys.push_back(blk->entries[i].first);
      }
      Block& dst = *packed.back();
      dst.keys[dst.count] = blk->entries[i].first;
      dst.entries[dst.count++] = blk->entries[i];
    }
  }
  blocks_.swap(packed);
  first_keys_.swap(keys);
  ++version_;
}

std::string RegionMap::CheckInvariants() const {
  if (blocks_.size() != first_keys_.size()) return "block index size mismatch";
  size_t total = 0;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    if (blocks_[b]->count == 0 || blocks_[b]->count > kBlockCapacity) return "bad block count";
    if (first_keys_[b] != blocks_[b]->entries[0].first) return "stale block key";
    for (uint32_t i = 0; i < blocks_[b]->count; ++i) {
      if (blocks_[b]->keys[i] != blocks_[b]->entries[i].first) return "stale entry key";
    }
    total += blocks_[b]->count;
  }
  if (total != size_) return "size mismatch";
  const Region* prev = nullptr;
  uint64_t prev_start = 0;
  for (const Entry& e : *this) {
    if (e.second.end <= e.first) return "empty region at " + std::to_string(e.first);
    if (prev != nullptr) {
      if (e.first < prev->end) return "overlapping regions at " + std::to_string(e.first);
      if (e.first == prev->end && prev->SameAttributes(e.second)) {
        return "uncoalesced regions at " + std::to_string(prev_start) + " and " +
               std::to_string(e.first);
      }
    }
    prev = &e.second;
    prev_start = e.first;
  }
  return "";
}

}  // namespace vmreplay::sim
