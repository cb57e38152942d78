#include "simulator/free_space_index.h"

#include <algorithm>
#include <cassert>

namespace vmreplay::sim {

FreeSpaceIndex::FreeSpaceIndex(uint64_t fine_alignment, uint64_t coarse_alignment)
    : fine_alignment_(fine_alignment), coarse_alignment_(coarse_alignment) {
  nodes_.emplace_back();  // Sentinel.
}

uint64_t FreeSpaceIndex::Usable(uint64_t start, uint64_t end) const {
  const uint64_t aligned = (start + coarse_alignment_ - 1) & ~(coarse_alignment_ - 1);
  // `aligned` cannot wrap: blocks end at most at max_address + 1 < 2^64 - coarse_alignment.
  return aligned < end ? end - aligned : 0;
}

void FreeSpaceIndex::Pull(NodeId n) {
  Node& node = nodes_[n];
  const Node& l = nodes_[node.left];
  const Node& r = nodes_[node.right];
  node.max_size = std::max({node.end - node.start, l.max_size, r.max_size});
  node.max_usable = std::max({Usable(node.start, node.end), l.max_usable, r.max_usable});
}

FreeSpaceIndex::NodeId FreeSpaceIndex::NewNode(uint64_t start, uint64_t end) {
  NodeId id;
  if (!free_nodes_.empty()) {
    id = free_nodes_.back();
    free_nodes_.pop_back();
  } else {
    id = static_cast<NodeId>(nodes_.size());
    nodes_.emplace_back();
  }
  // xorshift64*: deterministic priorities.
  rng_state_ ^= rng_state_ >> 12;
  rng_state_ ^= rng_state_ << 25;
  rng_state_ ^= rng_state_ >> 27;
  Node& node = nodes_[id];
  node = Node{};
  node.start = start;
  node.end = end;
  node.priority = static_cast<uint32_t>((rng_state_ * 0x2545F4914F6CDD1Dull) >> 32);
  Pull(id);
  SizeOrderInsert(id);
  return id;
}

void FreeSpaceIndex::Release(NodeId n) {
  SizeOrderErase(n);
  free_nodes_.push_back(n);
}

void FreeSpaceIndex::Split(NodeId t, uint64_t key, NodeId* left, NodeId* right) {
  if (t == kNil) {
    *left = *right = kNil;
    return;
  }
  if (nodes_[t].start < key) {
    NodeId r_left, r_right;
    Split(nodes_[t].right, key, &r_left, &r_right);
    nodes_[t].right = r_left;
    Pull(t);
    *left = t;
    *right = r_right;
  } else {
    NodeId l_left, l_right;
    Split(nodes_[t].left, key, &l_left, &l_right);
    nodes_[t].left = l_right;
    Pull(t);
    *left = l_left;
    *right = t;
  }
}

FreeSpaceIndex::NodeId FreeSpaceIndex::Merge(NodeId a, NodeId b) {
  if (a == kNil) return b;
  if (b == kNil) return a;
  if (nodes_[a].priority > nodes_[b].priority) {
    nodes_[a].right = Merge(nodes_[a].right, b);
    Pull(a);
    return a;
  }
  nodes_[b].left = Merge(a, nodes_[b].left);
  Pull(b);
  return b;
}

FreeSpaceIndex::NodeId FreeSpaceIndex::InsertNode(NodeId t, NodeId n) {
  if (t == kNil) return n;
  if (nodes_[n].priority > nodes_[t].priority) {
    Split(t, nodes_[n].start, &nodes_[n].left, &nodes_[n].right);
    Pull(n);
    return n;
  }
  if (nodes_[n].start < nodes_[t].start) {
    nodes_[t].left = InsertNode(nodes_[t].left, n);
  } else {
    nodes_[t].right = InsertNode(nodes_[t].right, n);
  }
  Pull(t);
  return t;
}

FreeSpaceIndex::NodeId FreeSpaceIndex::EraseKey(NodeId t, uint64_t key) {
  assert(t != kNil);
  if (nodes_[t].start == key) {
    NodeId merged = Merge(nodes_[t].left, nodes_[t].right);
    Release(t);
    return merged;
  }
  if (key < nodes_[t].start) {
    nodes_[t].left = EraseKey(nodes_[t].left, key);
  } else {
    nodes_[t].right = EraseKey(nodes_[t].right, key);
  }
  Pull(t);
  return t;
}

FreeSpaceIndex::NodeId FreeSpaceIndex::Floor(uint64_t addr) const {
  NodeId best = kNil;
  NodeId t = root_;
  while (t != kNil) {
    if (nodes_[t].start <= addr) {
      best = t;
      t = nodes_[t].right;
    } else {
      t = nodes_[t].left;
    }
  }
  return best;
}

void FreeSpaceIndex::FloorPath(uint64_t addr, Path* path) const {
  path->depth = 0;
  path->found = kNil;
  path->ceil = kNil;
  path->truncated = false;
  NodeId t = root_;
  while (t != kNil) {
    if (path->depth == Path::kMaxDepth) {
      path->truncated = true;
    } else {
      path->nodes[path->depth++] = t;
    }
    if (nodes_[t].start <= addr) {
      path->found = t;
      path->found_depth = path->depth - 1;
      t = nodes_[t].right;
    } else {
      path->ceil = t;
      path->ceil_depth = path->depth - 1;
      t = nodes_[t].left;
    }
  }
}

void FreeSpaceIndex::ResizeFound(const Path& path, uint64_t new_start, uint64_t new_end) {
  SizeOrderErase(path.found);
  Node& node = nodes_[path.found];
  node.start = new_start;
  node.end = new_end;
  SizeOrderInsert(path.found);
  if (path.truncated) {
    RepullPath(root_, new_start);
    return;
  }
  Pull(path.found);
  for (size_t d = path.found_depth; d > 0; --d) Pull(path.nodes[d - 1]);
}

void FreeSpaceIndex::RepullPath(NodeId t, uint64_t key) {
  if (t == kNil) return;
  if (key < nodes_[t].start) {
    RepullPath(nodes_[t].left, key);
  } else if (key > nodes_[t].start) {
    RepullPath(nodes_[t].right, key);
  }
  Pull(t);
}

void FreeSpaceIndex::Free(uint64_t start, uint64_t end) {
  assert(start < end);
  total_ += end - start;
  ++version_;
  // Merge with the block ending at `start` and/or the block starting at `end`. One descent finds
  // both: the floor of start - 1, and its successor (the last left turn of the same search),
  // which is the first block starting at or after `end` since [start, end) overlaps no block.
  Path path;
  FloorPath(start > 0 ? start - 1 : 0, &path);
  const NodeId lower = path.found;
  const NodeId upper = path.ceil;
  const bool merge_lower = start > 0 && lower != kNil && nodes_[lower].end == start;
  const bool merge_upper = upper != kNil && nodes_[upper].start == end;
  if (merge_lower && merge_upper) {
    --count_;
    if (path.truncated) {
      const uint64_t upper_end = nodes_[upper].end;
      const uint64_t lower_start = nodes_[lower].start;
      root_ = EraseKey(root_, end);
      Path again;
      FloorPath(lower_start, &again);
      ResizeFound(again, lower_start, upper_end);
      return;
    }
    // The two blocks are neighbours in key order, so one is an ancestor of the other and the
    // deeper one has no child on the side facing it: unlink the deeper one (its only child takes
    // its place, keeping the heap order), extend the other over it, refresh the path.
    const bool upper_deeper = path.ceil_depth > path.found_depth;
    const NodeId gone = upper_deeper ? upper : lower;
    const NodeId kept = upper_deeper ? lower : upper;
    const size_t gone_depth = upper_deeper ? path.ceil_depth : path.found_depth;
    const NodeId child = upper_deeper ? nodes_[gone].right : nodes_[gone].left;
    assert(gone_depth > 0);
    assert((upper_deeper ? nodes_[gone].left : nodes_[gone].right) == kNil);
    const NodeId parent = path.nodes[gone_depth - 1];
    if (nodes_[parent].left == gone) {
      nodes_[parent].left = child;
    } else {
      nodes_[parent].right = child;
    }
    const uint64_t new_start = nodes_[lower].start;
    const uint64_t new_end = nodes_[upper].end;
    SizeOrderErase(kept);
    nodes_[kept].start = new_start;
    nodes_[kept].end = new_end;
    SizeOrderInsert(kept);
    Release(gone);
    for (size_t d = gone_depth; d > 0; --d) Pull(path.nodes[d - 1]);
  } else if (merge_lower) {
    ResizeFound(path, nodes_[lower].start, end);
  } else if (merge_upper) {
    // Moving the start down to `start` keeps the order: the range overlaps no other block.
    path.found = upper;
    path.found_depth = path.ceil_depth;
    ResizeFound(path, start, nodes_[upper].end);
  } else {
    root_ = InsertNode(root_, NewNode(start, end));
    ++count_;
  }
}

void FreeSpaceIndex::Allocate(uint64_t start, uint64_t end) {
  Path local;
  const Path* found_path = &hint_;
  if (!HintCovers(start, end)) {
    FloorPath(start, &local);
    found_path = &local;
  }
  const Path& path = *found_path;
  ++version_;
  const NodeId block = path.found;
  assert(block != kNil && nodes_[block].start <= start && nodes_[block].end >= end);
  total_ -= end - start;
  const uint64_t block_start = nodes_[block].start;
  const uint64_t block_end = nodes_[block].end;
  if (block_start == start && block_end == end) {
    root_ = EraseKey(root_, block_start);
    --count_;
  } else if (block_start == start) {
    ResizeFound(path, end, block_end);
  } else {
    ResizeFound(path, block_start, start);
    if (end < block_end) {
      root_ = InsertNode(root_, NewNode(end, block_end));
      ++count_;
    }
  }
}

bool FreeSpaceIndex::Contains(uint64_t start, uint64_t end) const {
  FloorPath(start, &hint_);
  hint_version_ = version_;
  const NodeId block = hint_.found;
  return block != kNil && nodes_[block].end >= end && start < nodes_[block].end;
}

void FreeSpaceIndex::HintPush(NodeId t) const {
  if (hint_.depth == Path::kMaxDepth) {
    hint_.truncated = true;
  } else {
    hint_.nodes[hint_.depth++] = t;
  }
}

void FreeSpaceIndex::HintFound(NodeId t) const {
  hint_.found = t;
  hint_.found_depth = hint_.depth - 1;
  hint_version_ = version_;
}

std::optional<std::pair<uint64_t, uint64_t>> FreeSpaceIndex::BlockContaining(uint64_t addr) const {
  NodeId block = Floor(addr);
  if (block == kNil || nodes_[block].end <= addr) return std::nullopt;
  return std::make_pair(nodes_[block].start, nodes_[block].end);
}

std::optional<uint64_t> FreeSpaceIndex::FindLowest(uint64_t size, bool coarse) const {
  const uint64_t align = coarse ? coarse_alignment_ : fine_alignment_;
  auto fits = [&](const Node& n) { return coarse ? n.max_usable >= size : n.max_size >= size; };
  NodeId t = root_;
  if (t == kNil || !fits(nodes_[t])) return std::nullopt;
  hint_.depth = 0;
  hint_.truncated = false;
  while (true) {
    HintPush(t);
    const Node& n = nodes_[t];
    if (n.left != kNil && fits(nodes_[n.left])) {
      t = n.left;
      continue;
    }
    const uint64_t usable = coarse ? Usable(n.start, n.end) : n.end - n.start;
    if (usable >= size) {
      HintFound(t);
      return (n.start + align - 1) & ~(align - 1);
    }
    t = n.right;  // The subtree aggregate guarantees the right subtree fits.
    assert(t != kNil);
  }
}

std::optional<uint64_t> FreeSpaceIndex::FindHighest(uint64_t size, bool coarse) const {
  const uint64_t align = coarse ? coarse_alignment_ : fine_alignment_;
  auto fits = [&](const Node& n) { return coarse ? n.max_usable >= size : n.max_size >= size; };
  NodeId t = root_;
  if (t == kNil || !fits(nodes_[t])) return std::nullopt;
  hint_.depth = 0;
  hint_.truncated = false;
  while (true) {
    HintPush(t);
    const Node& n = nodes_[t];
    if (n.right != kNil && fits(nodes_[n.right])) {
      t = n.right;
      continue;
    }
    const uint64_t usable = coarse ? Usable(n.start, n.end) : n.end - n.start;
    if (usable >= size) {
      HintFound(t);
      return (n.end - size) & ~(align - 1);
    }
    t = n.left;
    assert(t != kNil);
  }
}

FreeSpaceIndex::NodeId FreeSpaceIndex::LowestFitAbove(NodeId t, uint64_t from, uint64_t size,
                                                      bool coarse) const {
  auto fits = [&](NodeId n) {
    return coarse ? nodes_[n].max_usable >= size : nodes_[n].max_size >= size;
  };
  auto holds = [&](NodeId n) {
    const Node& node = nodes_[n];
    return (coarse ? Usable(node.start, node.end) : node.end - node.start) >= size;
  };
  // Nodes at or below `from` lead right only; above it, the left subtree may still hold starts
  // above `from`, then the node itself, then its right subtree (all above `from`).
  while (t != kNil && fits(t)) {
    if (nodes_[t].start <= from) {
      t = nodes_[t].right;
      continue;
    }
    if (const NodeId left = LowestFitAbove(nodes_[t].left, from, size, coarse); left != kNil) {
      return left;
    }
    if (holds(t)) return t;
    t = nodes_[t].right;
    // Every start here is above `from`: the plain lowest-fit descent.
    while (t != kNil && fits(t)) {
      const NodeId l = nodes_[t].left;
      if (l != kNil && fits(l)) {
        t = l;
      } else if (holds(t)) {
        return t;
      } else {
        t = nodes_[t].right;
      }
    }
    return kNil;
  }
  return kNil;
}

std::optional<uint64_t> FreeSpaceIndex::FindLowestFrom(uint64_t from, uint64_t size,
                                                       bool coarse) const {
  const uint64_t align = coarse ? coarse_alignment_ : fine_alignment_;
  // The block holding `from` may fit from there on.
  const NodeId at = Floor(from);
  if (at != kNil && nodes_[at].end > from) {
    const uint64_t a = (from + align - 1) & ~(align - 1);
    if (a < nodes_[at].end && nodes_[at].end - a >= size) return a;
  }
  const NodeId next = LowestFitAbove(root_, from, size, coarse);
  if (next == kNil) return std::nullopt;
  return (nodes_[next].start + align - 1) & ~(align - 1);
}

std::optional<uint64_t> FreeSpaceIndex::FindBestFit(uint64_t size, bool coarse) const {
  assert(best_fit_);
  const uint64_t align = coarse ? coarse_alignment_ : fine_alignment_;
  const auto it = by_size_.lower_bound({size, 0});
  if (it == by_size_.end()) return std::nullopt;
  return (it->second + align - 1) & ~(align - 1);
}

std::vector<std::pair<uint64_t, uint64_t>> FreeSpaceIndex::Blocks() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  out.reserve(count_);
  // Iterative in-order traversal.
  std::vector<NodeId> stack;
  NodeId t = root_;
  while (t != kNil || !stack.empty()) {
    while (t != kNil) {
      stack.push_back(t);
      t = nodes_[t].left;
    }
    t = stack.back();
    stack.pop_back();
    out.emplace_back(nodes_[t].start, nodes_[t].end);
    t = nodes_[t].right;
  }
  return out;
}

void FreeSpaceIndex::CheckSubtree(NodeId n, uint64_t lo, uint64_t hi, std::string* error) const {
  if (n == kNil || !error->empty()) return;
  const Node& node = nodes_[n];
  if (node.start < lo || node.start >= hi || node.end <= node.start) {
    *error = "misordered or empty block at " + std::to_string(node.start);
    return;
  }
  if ((node.left != kNil && nodes_[node.left].priority > node.priority) ||
      (node.right != kNil && nodes_[node.right].priority > node.priority)) {
    *error = "heap order violated at " + std::to_string(node.start);
    return;
  }
  CheckSubtree(node.left, lo, node.start, error);
  CheckSubtree(node.right, node.start + 1, hi, error);
  const Node& l = nodes_[node.left];
  const Node& r = nodes_[node.right];
  if (node.max_size != std::max({node.end - node.start, l.max_size, r.max_size}) ||
      node.max_usable != std::max({Usable(node.start, node.end), l.max_usable, r.max_usable})) {
    if (error->empty()) *error = "stale aggregate at " + std::to_string(node.start);
  }
}

std::string FreeSpaceIndex::CheckInvariants() const {
  std::string error;
  CheckSubtree(root_, 0, UINT64_MAX, &error);
  if (!error.empty()) return error;
  auto blocks = Blocks();
  uint64_t total = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    total += blocks[i].second - blocks[i].first;
    if (blocks[i].first % fine_alignment_ != 0 || blocks[i].second % fine_alignment_ != 0) {
      return "unaligned block at " + std::to_string(blocks[i].first);
    }
    if (i > 0 && blocks[i - 1].second >= blocks[i].first) {
      return "adjacent or overlapping blocks at " + std::to_string(blocks[i].first);
    }
  }
  if (total != total_) return "total_ mismatch";
  if (best_fit_) {
    if (by_size_.size() != blocks.size()) return "size order holds another number of blocks";
    for (const auto& [start, end] : blocks) {
      if (by_size_.count({Usable(start, end), start}) == 0) {
        return "size order misses the block at " + std::to_string(start);
      }
    }
  }
  if (blocks.size() != count_) return "count_ mismatch";
  return "";
}

}  // namespace vmreplay::sim
