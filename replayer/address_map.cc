#include "replayer/address_map.h"

namespace vmreplay::replay {

void AddressMap::Insert(RecordedAddr start, uint64_t size, ReplayedAddr base, bool dead) {
  if (size == 0) return;
  Remove(start, size);
  ranges_[start.value] = Range{start.value + size, base.value, dead};
}

void AddressMap::Remove(RecordedAddr start_addr, uint64_t size) {
  const uint64_t start = start_addr.value;
  const uint64_t end = start + size < start ? UINT64_MAX : start + size;
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin()) --it;
  while (it != ranges_.end() && it->first < end) {
    const uint64_t r_start = it->first;
    const Range r = it->second;
    if (r.end <= start) {
      ++it;
      continue;
    }
    it = ranges_.erase(it);
    if (r_start < start) ranges_[r_start] = Range{start, r.replayed, r.dead};
    if (r.end > end) {
      ranges_[end] = Range{r.end, r.replayed + (end - r_start), r.dead};
      break;
    }
  }
}

void AddressMap::MarkDead(RecordedAddr addr) {
  auto it = ranges_.upper_bound(addr.value);
  if (it == ranges_.begin()) return;
  --it;
  if (addr.value < it->second.end) it->second.dead = true;
}

std::optional<AddressMap::Hit> AddressMap::Lookup(RecordedAddr addr) const {
  auto it = ranges_.upper_bound(addr.value);
  if (it == ranges_.begin()) return std::nullopt;
  --it;
  if (addr.value >= it->second.end) return std::nullopt;
  return Hit{ReplayedAddr{it->second.replayed + (addr.value - it->first)}, it->second.end,
             it->second.dead};
}

std::optional<std::pair<RecordedAddr, uint64_t>> AddressMap::RangeOf(RecordedAddr addr) const {
  auto it = ranges_.upper_bound(addr.value);
  if (it == ranges_.begin()) return std::nullopt;
  --it;
  if (addr.value >= it->second.end) return std::nullopt;
  return std::make_pair(RecordedAddr{it->first}, it->second.end - it->first);
}

std::vector<AddressMap::Piece> AddressMap::Pieces(RecordedAddr start_addr, uint64_t size) const {
  std::vector<Piece> out;
  const uint64_t start = start_addr.value;
  const uint64_t end = start + size < start ? UINT64_MAX : start + size;
  uint64_t cursor = start;
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second.end > start) it = prev;
  }
  while (cursor < end) {
    if (it == ranges_.end() || it->first >= end) {
      out.push_back(Piece{RecordedAddr{cursor}, ReplayedAddr{cursor}, end - cursor, false, false});
      break;
    }
    if (it->first > cursor) {
      out.push_back(
          Piece{RecordedAddr{cursor}, ReplayedAddr{cursor}, it->first - cursor, false, false});
      cursor = it->first;
    }
    const uint64_t piece_end = it->second.end < end ? it->second.end : end;
    out.push_back(Piece{RecordedAddr{cursor},
                        ReplayedAddr{it->second.replayed + (cursor - it->first)},
                        piece_end - cursor, true, it->second.dead});
    cursor = piece_end;
    ++it;
  }
  return out;
}

}  // namespace vmreplay::replay
