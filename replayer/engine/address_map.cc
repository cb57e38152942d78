#include "replayer/engine/address_map.h"

#include <algorithm>

namespace vmreplay::replay {

AddressMap::Pos AddressMap::Next(Pos p) const {
  if (++p.i == blocks_[p.b].size()) {
    ++p.b;
    p.i = 0;
  }
  return p;
}

AddressMap::Pos AddressMap::Floor(uint64_t addr) const {
  auto fb = std::upper_bound(firsts_.begin(), firsts_.end(), addr);
  if (fb == firsts_.begin()) return Pos{blocks_.size(), 0};
  const size_t b = static_cast<size_t>(fb - firsts_.begin()) - 1;
  const auto& block = blocks_[b];
  auto it = std::upper_bound(block.begin(), block.end(), addr,
                             [](uint64_t a, const Range& r) { return a < r.start; });
  // block.front().start <= addr, so `it` is past the first entry.
  return Pos{b, static_cast<size_t>(it - block.begin()) - 1};
}

AddressMap::Pos AddressMap::FirstEndingAfter(uint64_t addr) const {
  Pos p = Floor(addr);
  if (AtEnd(p)) return blocks_.empty() ? p : Pos{0, 0};  // Everything starts after addr.
  if (At(p).end > addr) return p;
  return Next(p);
}

void AddressMap::InsertSorted(const Range& r) {
  ++size_;
  if (!r.identity()) ++non_identity_;
  if (blocks_.empty()) {
    blocks_.emplace_back().push_back(r);
    firsts_.push_back(r.start);
    return;
  }
  auto fb = std::upper_bound(firsts_.begin(), firsts_.end(), r.start);
  // Before every block: prepend to the first one.
  const size_t b = fb == firsts_.begin() ? 0 : static_cast<size_t>(fb - firsts_.begin()) - 1;
  auto& block = blocks_[b];
  auto it = std::upper_bound(block.begin(), block.end(), r.start,
                             [](uint64_t a, const Range& x) { return a < x.start; });
  block.insert(it, r);
  firsts_[b] = block.front().start;
  if (block.size() > kBlockCapacity) {  // Split in halves.
    std::vector<Range> tail(block.begin() + kBlockCapacity / 2, block.end());
    block.resize(kBlockCapacity / 2);
    firsts_.insert(firsts_.begin() + static_cast<ptrdiff_t>(b) + 1, tail.front().start);
    blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(b) + 1, std::move(tail));
  }
}

AddressMap::Pos AddressMap::Rebalance(Pos p) {
  const size_t b = p.b;
  const auto at = [](auto& v, size_t i) { return v.begin() + static_cast<ptrdiff_t>(i); };
  if (b + 1 < blocks_.size()) {  // Take from the next block: entries of b keep their indices.
    auto& block = blocks_[b];
    auto& next = blocks_[b + 1];
    if (block.size() + next.size() <= kBlockCapacity) {
      block.insert(block.end(), next.begin(), next.end());
      blocks_.erase(at(blocks_, b + 1));
      firsts_.erase(firsts_.begin() + static_cast<ptrdiff_t>(b) + 1);
    } else {
      const size_t move = (next.size() - block.size()) / 2;
      block.insert(block.end(), next.begin(), at(next, move));
      next.erase(next.begin(), at(next, move));
      firsts_[b + 1] = next.front().start;
    }
    return p;
  }
  if (b == 0) return p;  // A lone block may be small.
  auto& prev = blocks_[b - 1];
  auto& block = blocks_[b];
  if (prev.size() + block.size() <= kBlockCapacity) {  // The last block joins the previous one.
    const size_t offset = prev.size();
    prev.insert(prev.end(), block.begin(), block.end());
    blocks_.erase(at(blocks_, b));
    firsts_.erase(firsts_.begin() + static_cast<ptrdiff_t>(b));
    return Pos{b - 1, offset + p.i};
  }
  const size_t move = (prev.size() - block.size()) / 2;
  block.insert(block.begin(), at(prev, prev.size() - move), prev.end());
  prev.erase(at(prev, prev.size() - move), prev.end());
  firsts_[b] = block.front().start;
  return Pos{b, p.i + move};
}

AddressMap::Pos AddressMap::Erase(Pos p) {
  --size_;
  auto& block = blocks_[p.b];
  if (!block[p.i].identity()) --non_identity_;
  block.erase(block.begin() + static_cast<ptrdiff_t>(p.i));
  if (block.empty()) {
    blocks_.erase(blocks_.begin() + static_cast<ptrdiff_t>(p.b));
    firsts_.erase(firsts_.begin() + static_cast<ptrdiff_t>(p.b));
    return Pos{p.b, 0};
  }
  firsts_[p.b] = block.front().start;
  if (block.size() < kBlockCapacity / 4) p = Rebalance(p);
  if (p.i == blocks_[p.b].size()) return Pos{p.b + 1, 0};
  return p;
}

void AddressMap::Insert(RecordedAddr start, uint64_t size, ReplayedAddr base, bool dead) {
  if (size == 0) return;
  Remove(start, size);
  const uint64_t end = start.value + size < start.value ? UINT64_MAX : start.value + size;
  InsertSorted(Range{start.value, end, base.value, dead});
}

void AddressMap::Remove(RecordedAddr start_addr, uint64_t size) {
  const uint64_t start = start_addr.value;
  const uint64_t end = start + size < start ? UINT64_MAX : start + size;
  Pos p = FirstEndingAfter(start);
  while (!AtEnd(p) && At(p).start < end) {
    Range& r = At(p);
    if (r.start < start && r.end > end) {  // Hole in the middle: split.
      const Range tail{end, r.end, r.replayed + (end - r.start), r.dead};
      r.end = start;
      InsertSorted(tail);
      return;
    }
    if (r.start < start) {  // Keep the head.
      r.end = start;
      p = Next(p);
      continue;
    }
    if (r.end > end) {  // Keep the tail: the start moves up, the order is unchanged (and start
                        // and replayed move together, so identity() is too).
      r.replayed += end - r.start;
      r.start = end;
      if (p.i == 0) firsts_[p.b] = end;
      return;
    }
    p = Erase(p);
  }
}

void AddressMap::MarkDead(RecordedAddr addr) {
  const Pos p = Floor(addr.value);
  if (AtEnd(p)) return;
  Range& r = At(p);
  if (addr.value >= r.end) return;
  if (r.identity()) ++non_identity_;
  r.dead = true;
}

std::optional<AddressMap::Hit> AddressMap::Lookup(RecordedAddr addr) const {
  const Pos p = Floor(addr.value);
  if (AtEnd(p)) return std::nullopt;
  const Range& r = At(p);
  if (addr.value >= r.end) return std::nullopt;
  return Hit{ReplayedAddr{r.replayed + (addr.value - r.start)}, r.end, r.dead};
}

std::optional<std::pair<RecordedAddr, uint64_t>> AddressMap::RangeOf(RecordedAddr addr) const {
  const Pos p = Floor(addr.value);
  if (AtEnd(p)) return std::nullopt;
  const Range& r = At(p);
  if (addr.value >= r.end) return std::nullopt;
  return std::make_pair(RecordedAddr{r.start}, r.end - r.start);
}

std::vector<AddressMap::Piece> AddressMap::Pieces(RecordedAddr start_addr, uint64_t size) const {
  std::vector<Piece> out;
  const uint64_t start = start_addr.value;
  const uint64_t end = start + size < start ? UINT64_MAX : start + size;
  uint64_t cursor = start;
  Pos p = FirstEndingAfter(start);
  while (cursor < end) {
    if (AtEnd(p) || At(p).start >= end) {
      out.push_back(Piece{RecordedAddr{cursor}, ReplayedAddr{cursor}, end - cursor, false, false});
      break;
    }
    const Range& r = At(p);
    if (r.start > cursor) {
      out.push_back(
          Piece{RecordedAddr{cursor}, ReplayedAddr{cursor}, r.start - cursor, false, false});
      cursor = r.start;
    }
    const uint64_t piece_end = r.end < end ? r.end : end;
    out.push_back(Piece{RecordedAddr{cursor}, ReplayedAddr{r.replayed + (cursor - r.start)},
                        piece_end - cursor, true, r.dead});
    cursor = piece_end;
    p = Next(p);
  }
  return out;
}

}  // namespace vmreplay::replay
