// The ordered set of allocated regions of an address space (free space is the gaps).
//
// Invariants (checked by CheckInvariants, relied on by VirtualQuery): regions are non-empty and
// disjoint; two contiguous regions never have the same attributes (Region::SameAttributes), so one
// lookup answers VirtualQuery.
//
// Layout: a sorted sequence of entries stored in fixed-capacity blocks (a two-level B+-tree: a
// contiguous array of block first-keys above arrays of entries). Lookups are two binary searches
// over contiguous memory; inserting or erasing moves at most one block's entries; a region's start
// can be moved in place (SetStart), which turns the commonest GC operations (grow or shrink a
// committed prefix) into a lookup and two stores. Compared with std::map (one heap node per region,
// a pointer chase per tree level) this is several times faster on address spaces with thousands of
// regions (bench/simulator/address_space_bench.cc). Blocks that become empty are dropped, and
// Compact() repacks when blocks are on average less than a quarter full, so memory stays
// proportional to the number of regions.
//
// Iterators are invalidated by any insertion or erasure (like std::vector's), except that erasing
// entries does not invalidate iterators to entries before the erased ones.
#ifndef VMREPLAY_SIMULATOR_REGION_MAP_H_
#define VMREPLAY_SIMULATOR_REGION_MAP_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "simulator/region.h"

namespace vmreplay::sim {

class RegionMap {
 public:
  // `first` is the region's start (read it freely; change it only through SetStart).
  struct Entry {
    uint64_t first = 0;
    Region second;
  };
  static constexpr uint32_t kBlockCapacity = 32;

 private:
  // keys[i] == entries[i].first: the searched keys packed in 4 cache lines instead of spread
  // over the 1.5 KiB of entries.
  // Cache-line aligned with the keys first, so they fill exactly kBlockCapacity / 8 lines.
  struct alignas(64) Block {
    uint64_t keys[kBlockCapacity] = {};  // Initialized: lookups read all of them.
    uint32_t count = 0;
    Entry entries[kBlockCapacity];
  };

 public:
  template <bool kConst>
  class Iterator {
   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<kConst, const Entry*, Entry*>;
    using reference = std::conditional_t<kConst, const Entry&, Entry&>;
    using MapPtr = std::conditional_t<kConst, const RegionMap*, RegionMap*>;

    Iterator() = default;
    Iterator(MapPtr map, size_t block, uint32_t index) : map_(map), block_(block), index_(index) {}
    // iterator -> const_iterator.
    template <bool kOther, typename = std::enable_if_t<kConst && !kOther>>
    Iterator(const Iterator<kOther>& o)  // NOLINT: implicit like std containers.
        : map_(o.map_), block_(o.block_), index_(o.index_) {}

    reference operator*() const { return map_->blocks_[block_]->entries[index_]; }
    pointer operator->() const { return &**this; }
    Iterator& operator++() {
      if (++index_ == map_->blocks_[block_]->count) {
        ++block_;
        index_ = 0;
      }
      return *this;
    }
    Iterator& operator--() {
      if (index_ == 0) {
        --block_;
        index_ = map_->blocks_[block_]->count - 1;
      } else {
        --index_;
      }
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    Iterator operator--(int) {
      Iterator old = *this;
      --*this;
      return old;
    }
    bool operator==(const Iterator& o) const { return block_ == o.block_ && index_ == o.index_; }

   private:
    friend class RegionMap;
    template <bool>
    friend class Iterator;
    MapPtr map_ = nullptr;
    size_t block_ = 0;
    uint32_t index_ = 0;
  };
  using iterator = Iterator<false>;
  using const_iterator = Iterator<true>;

  RegionMap() = default;
  RegionMap(const RegionMap&) = delete;
  RegionMap& operator=(const RegionMap&) = delete;

  // The region containing `addr`, or end().
  iterator Find(uint64_t addr);
  const_iterator Find(uint64_t addr) const;
  // The first region with start > addr, or end().
  iterator UpperBound(uint64_t addr);
  const_iterator UpperBound(uint64_t addr) const;

  // Makes `start` and `end` region boundaries (splitting the regions that straddle them) and
  // returns the first region starting at or after `start`. Regions in [start, end) may then be
  // mutated in place (not their start); call CoalesceFrom afterwards to restore the invariant.
  iterator SplitRange(uint64_t start, uint64_t end);
  // Splits the region `it` (which must contain [start, end)) so that [start, end) is a region of
  // its own, and returns it. No search: the cheap path for changes inside one region.
  iterator SplitWithin(iterator it, uint64_t start, uint64_t end);
  // Merges equal contiguous regions from the predecessor of `first` up to the region starting at
  // `end`. Invalidates iterators after `first`'s predecessor.
  void CoalesceFrom(iterator first, uint64_t end);

  // Inserts `region` at [start, region.end), coalescing with equal neighbours.
  // REQUIRES: the range is free.
  void Insert(uint64_t start, const Region& region);
  // Removes regions [first, last).
  void Erase(const_iterator first, const_iterator last);
  // Moves the start of `it` to `new_start`. REQUIRES: the order of regions is unchanged and
  // the caller adjusts the neighbour so regions stay disjoint.
  void SetStart(iterator it, uint64_t new_start);
  // Repacks blocks when they are on average less than a quarter full. Invalidates iterators.
  void Compact();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  iterator begin() { return iterator(this, 0, 0); }
  iterator end() { return iterator(this, blocks_.size(), 0); }
  const_iterator begin() const { return const_iterator(this, 0, 0); }
  const_iterator end() const { return const_iterator(this, blocks_.size(), 0); }

  // Empty string when the invariants hold, else a description of the first violation.
  std::string CheckInvariants() const;

 private:
  // Position of the first entry with start > addr.
  void UpperBoundPos(uint64_t addr, size_t* block, uint32_t* index) const;
  // Inserts `entry` before position (block, index); returns its position.
  iterator InsertAt(size_t block, uint32_t index, const Entry& entry);
  // Makes `addr` a boundary.
  void SplitAt(uint64_t addr);

  // Returns the cached position of a recently used region, or a neighbour in its block, when
  // still valid and containing addr.
  bool FingerHit(uint64_t addr, size_t* block, uint32_t* index) const;
  void SetFinger(size_t block, uint32_t index) const {
    finger_version_ = version_;
    finger_block_ = block;
    finger_index_ = index;
  }

  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<uint64_t> first_keys_;  // first_keys_[b] == blocks_[b]->entries[0].first.
  size_t size_ = 0;
  // Bumped by every change that moves entries; a finger taken at another version is stale.
  uint64_t version_ = 0;
  // Position of the last region Find returned: replays touch the same region several times in a
  // row (the checks of a call, then its update; successive commits into one heap segment).
  mutable uint64_t finger_version_ = UINT64_MAX;
  mutable size_t finger_block_ = 0;
  mutable uint32_t finger_index_ = 0;
};

}  // namespace vmreplay::sim

#endif  // VMREPLAY_SIMULATOR_REGION_MAP_H_
