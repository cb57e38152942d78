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
  return id;
}

void FreeSpaceIndex::Release(NodeId n) { free_nodes_.push_back(n); }

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
      t = nodes_[t].left;
    }
  }
}

void FreeSpaceIndex::ResizeFound(const Path& path, uint64_t new_start, uint64_t new_end) {
  Node& node = nodes_[path.found];
  node.start = new_start;
  node.end = new_end;
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
  // Merge with the block ending at `start` and/or the block starting at `end`.
  Path lower;
  FloorPath(start > 0 ? start - 1 : 0, &lower);
  const bool merge_lower = start > 0 && lower.found != kNil && nodes_[lower.found].end == start;
  Path upper;
  FloorPath(end, &upper);
  const bool merge_upper = upper.found != kNil && nodes_[upper.found].start == end;
  if (merge_lower && merge_upper) {
    const uint64_t upper_end = nodes_[upper.found].end;
    const uint64_t lower_start = nodes_[lower.found].start;
    root_ = EraseKey(root_, end);
    --count_;
    // The erase reshaped the tree: the recorded path is stale.
    FloorPath(lower_start, &lower);
    ResizeFound(lower, lower_start, upper_end);
  } else if (merge_lower) {
    ResizeFound(lower, nodes_[lower.found].start, end);
  } else if (merge_upper) {
    // Moving the start down to `start` keeps the order: the range overlaps no other block.
    ResizeFound(upper, start, nodes_[upper.found].end);
  } else {
    root_ = InsertNode(root_, NewNode(start, end));
    ++count_;
  }
}

void FreeSpaceIndex::Allocate(uint64_t start, uint64_t end) {
  Path path;
  FloorPath(start, &path);
  const NodeId block = path.found;
  assert(block != kNil && nodes_[block].end >= end);
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
  NodeId block = Floor(start);
  return block != kNil && nodes_[block].end >= end && start < nodes_[block].end;
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
  while (true) {
    const Node& n = nodes_[t];
    if (n.left != kNil && fits(nodes_[n.left])) {
      t = n.left;
      continue;
    }
    const uint64_t usable = coarse ? Usable(n.start, n.end) : n.end - n.start;
    if (usable >= size) return (n.start + align - 1) & ~(align - 1);
    t = n.right;  // The subtree aggregate guarantees the right subtree fits.
    assert(t != kNil);
  }
}

std::optional<uint64_t> FreeSpaceIndex::FindHighest(uint64_t size, bool coarse) const {
  const uint64_t align = coarse ? coarse_alignment_ : fine_alignment_;
  auto fits = [&](const Node& n) { return coarse ? n.max_usable >= size : n.max_size >= size; };
  NodeId t = root_;
  if (t == kNil || !fits(nodes_[t])) return std::nullopt;
  while (true) {
    const Node& n = nodes_[t];
    if (n.right != kNil && fits(nodes_[n.right])) {
      t = n.right;
      continue;
    }
    const uint64_t usable = coarse ? Usable(n.start, n.end) : n.end - n.start;
    if (usable >= size) return (n.end - size) & ~(align - 1);
    t = n.left;
    assert(t != kNil);
  }
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
  if (blocks.size() != count_) return "count_ mismatch";
  return "";
}

}  // namespace vmreplay::sim
