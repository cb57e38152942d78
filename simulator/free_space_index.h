// Index of the free blocks of an address space, for placement and the fragmentation metric.
//
// A treap keyed by block start whose nodes carry two subtree maxima: the largest block size and
// the largest "coarse-usable" size (bytes from the block start rounded up to the coarse alignment,
// i.e. the allocation granularity, to the block end). That augmentation answers in O(log n):
//   - FindLowest:  the lowest aligned address where `size` bytes fit (bottom-up first fit),
//   - FindHighest: the highest such address (MEM_TOP_DOWN, Linux mmap),
//   - largest():   the largest free block (root aggregate, O(1)).
// A size-ordered multimap cannot answer "lowest address among blocks that fit" without a scan;
// the treap is the same idea as Linux's rb_subtree_gap augmented VMA tree. Nodes live in a vector
// with a free list, so steady-state operations do not allocate. Priorities come from a fixed-seed
// generator: the shape, and therefore every answer, is deterministic.
#ifndef VMREPLAY_SIMULATOR_FREE_SPACE_INDEX_H_
#define VMREPLAY_SIMULATOR_FREE_SPACE_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace vmreplay::sim {

class FreeSpaceIndex {
 public:
  // Every block boundary is a multiple of `fine_alignment` (the page size); placement can ask for
  // either that or `coarse_alignment` (the allocation granularity), a multiple of it.
  FreeSpaceIndex(uint64_t fine_alignment, uint64_t coarse_alignment);

  // Adds free range [start, end), merging with adjacent free blocks.
  // REQUIRES: start < end, the range overlaps no free block.
  void Free(uint64_t start, uint64_t end);
  // Removes [start, end) from the free set. REQUIRES: Contains(start, end).
  void Allocate(uint64_t start, uint64_t end);
  // True when [start, end) lies inside a single free block.
  bool Contains(uint64_t start, uint64_t end) const;
  // The free block containing addr, if any, as [start, end).
  std::optional<std::pair<uint64_t, uint64_t>> BlockContaining(uint64_t addr) const;

  // Lowest / highest address a with `size` free bytes at [a, a + size), a a multiple of the
  // coarse (coarse = true) or fine alignment.
  std::optional<uint64_t> FindLowest(uint64_t size, bool coarse) const;
  std::optional<uint64_t> FindHighest(uint64_t size, bool coarse) const;
  // Next fit: the lowest such address at or above `from` (nullopt when none is; the caller wraps
  // around with FindLowest).
  std::optional<uint64_t> FindLowestFrom(uint64_t from, uint64_t size, bool coarse) const;
  // Best fit: the start (aligned up) of the block with the fewest coarse-usable bytes that still
  // holds `size`, the lowest such block on ties. REQUIRES: EnableBestFit() before any Free. With
  // coarse = false in an index whose alignments differ, the block found fits but may not be the
  // tightest (blocks are ordered by coarse-usable size).
  std::optional<uint64_t> FindBestFit(uint64_t size, bool coarse) const;
  // Keeps the blocks also ordered by size, for FindBestFit (a std::set update per change).
  void EnableBestFit() { best_fit_ = true; }

  uint64_t largest() const { return nodes_[root_].max_size; }
  uint64_t total() const { return total_; }
  size_t block_count() const { return count_; }

  // All blocks in address order (tests, debugging). O(n).
  std::vector<std::pair<uint64_t, uint64_t>> Blocks() const;
  // Empty string when aggregates and ordering are consistent. O(n).
  std::string CheckInvariants() const;

 private:
  using NodeId = uint32_t;
  static constexpr NodeId kNil = 0;  // nodes_[0] is a sentinel with zero aggregates.

  struct Node {
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t max_size = 0;    // Max block size in the subtree.
    uint64_t max_usable = 0;  // Max coarse-usable size in the subtree.
    NodeId left = kNil;
    NodeId right = kNil;
    uint32_t priority = 0;
  };

  uint64_t Usable(uint64_t start, uint64_t end) const;
  void Pull(NodeId n);
  NodeId NewNode(uint64_t start, uint64_t end);
  void Release(NodeId n);
  // The size order (best fit only): a node's entry leaves before its extent changes or it is
  // released, and comes back with the new extent.
  void SizeOrderErase(NodeId n) {
    if (best_fit_) by_size_.erase({Usable(nodes_[n].start, nodes_[n].end), nodes_[n].start});
  }
  void SizeOrderInsert(NodeId n) {
    if (best_fit_) by_size_.insert({Usable(nodes_[n].start, nodes_[n].end), nodes_[n].start});
  }
  // Lowest node starting above `from` whose block holds `size` (next fit), or kNil.
  NodeId LowestFitAbove(NodeId t, uint64_t from, uint64_t size, bool coarse) const;
  // Splits subtree t into keys < key and keys >= key.
  void Split(NodeId t, uint64_t key, NodeId* left, NodeId* right);
  NodeId Merge(NodeId a, NodeId b);
  NodeId InsertNode(NodeId t, NodeId n);
  NodeId EraseKey(NodeId t, uint64_t key);
  // Node with the greatest start <= addr, or kNil.
  NodeId Floor(uint64_t addr) const;
  // Root-to-node path of a Floor search; the last element is the node found (kNil if none).
  struct Path {
    static constexpr size_t kMaxDepth = 128;  // Treap depth is O(log n) w.h.p.; far below this.
    NodeId nodes[kMaxDepth];
    size_t depth = 0;
    NodeId found = kNil;
    size_t found_depth = 0;  // Number of path entries above `found`.
    // FloorPath only: the node with the least start > addr (the last left turn), and its depth.
    NodeId ceil = kNil;
    size_t ceil_depth = 0;
    bool truncated = false;  // Deeper than kMaxDepth: aggregates are refreshed by a new descent.
  };
  // Floor(addr), recording the path so the node can be resized without another descent.
  void FloorPath(uint64_t addr, Path* path) const;
  // Changes the extent of path->found without changing its order among blocks, refreshing
  // aggregates on the root path.
  void ResizeFound(const Path& path, uint64_t new_start, uint64_t new_end);
  // Recomputes the aggregates on the path from t to the node whose start is `key`.
  void RepullPath(NodeId t, uint64_t key);
  void CheckSubtree(NodeId n, uint64_t lo, uint64_t hi, std::string* error) const;
  // The root path of the block a search (FindLowest, FindHighest, Contains) just found, reused
  // by an Allocate of a range inside that block when nothing changed in between: placing a
  // reservation then costs one descent, not two.
  void HintPush(NodeId t) const;
  void HintFound(NodeId t) const;
  bool HintCovers(uint64_t start, uint64_t end) const {
    return hint_version_ == version_ && hint_.found != kNil && !hint_.truncated &&
           nodes_[hint_.found].start <= start && end <= nodes_[hint_.found].end;
  }

  uint64_t fine_alignment_;
  uint64_t coarse_alignment_;
  std::vector<Node> nodes_;
  std::vector<NodeId> free_nodes_;
  NodeId root_ = kNil;
  uint64_t total_ = 0;
  size_t count_ = 0;
  uint64_t rng_state_ = 0x9E3779B97F4A7C15ull;
  uint64_t version_ = 0;  // Bumped by every change.
  mutable uint64_t hint_version_ = UINT64_MAX;
  mutable Path hint_;
  bool best_fit_ = false;
  std::set<std::pair<uint64_t, uint64_t>> by_size_;  // (coarse-usable bytes, start), best fit only
};

}  // namespace vmreplay::sim

#endif  // VMREPLAY_SIMULATOR_FREE_SPACE_INDEX_H_
