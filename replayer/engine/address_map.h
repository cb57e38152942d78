// Translation of recorded addresses to replayed ones.
//
// The recorded process and the backend place reservations / mappings at different addresses, so
// the engine remembers, for every live recorded range (a VirtualAlloc reservation or an mmap
// mapping), where the backend put it. An address inside a range translates to the same offset
// inside the replayed range, so commits, decommits, protections and queries of part of a
// reservation translate too. A range whose replay failed while the recording succeeded is kept as
// "dead": calls into it are skipped (they depend on a call that failed in replay).
//
// Memory: one entry per live recorded range, with at most 4x block slack: a block that falls
// below a quarter full merges with a neighbour or takes entries from it. (Merging only with the
// next block when both fit let blocks of 1-4 entries pile up next to full ones: the map's memory
// then grew with the trace's history, 11 MB for 10,000 live ranges after 10 M events.) Layout: a
// sorted sequence of entries stored in blocks of at most kBlockCapacity, with a contiguous array of
// block first-keys above them (a two-level B+-tree). Lookup is two binary searches over contiguous
// memory instead of std::map's pointer chase (it was 21% of sim replay on the VM-heavy benchmark
// mix with ~40k live ranges); insert and remove are O(log n + kBlockCapacity) (+ the number of
// ranges a removal splits or drops).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace vmreplay::replay {

// Strong types so a recorded address cannot be passed where a replayed one is expected.
struct RecordedAddr {
  uint64_t value = 0;
};
struct ReplayedAddr {
  uint64_t value = 0;
};

class AddressMap {
 public:
  struct Hit {
    ReplayedAddr address;    // translated address (meaningless when dead)
    uint64_t range_end = 0;  // recorded end of the range containing the address
    bool dead = false;
  };
  // A piece of a recorded range [start, start + size) after translation.
  struct Piece {
    RecordedAddr recorded;
    ReplayedAddr replayed;
    uint64_t size = 0;
    bool mapped = false;  // false: a gap (no recorded range knows these addresses)
    bool dead = false;
  };

  // Maps recorded [start, start + size) to replayed [base, base + size), replacing whatever
  // overlapped it. dead: the recording has this range but the replay has not.
  void Insert(RecordedAddr start, uint64_t size, ReplayedAddr base, bool dead = false);
  // Forgets recorded [start, start + size); ranges partly inside are trimmed or split.
  void Remove(RecordedAddr start, uint64_t size);
  // Marks the range containing `addr` dead (the replay lost it while the recording kept it).
  void MarkDead(RecordedAddr addr);
  // The translation of `addr`, if some recorded range contains it.
  std::optional<Hit> Lookup(RecordedAddr addr) const;
  // [start, start + size) cut at range boundaries, each piece translated (gaps marked unmapped).
  std::vector<Piece> Pieces(RecordedAddr start, uint64_t size) const;
  // Recorded range start containing addr and its size, for releases (size 0 if none).
  std::optional<std::pair<RecordedAddr, uint64_t>> RangeOf(RecordedAddr addr) const;

  size_t size() const { return size_; }
  // Blocks in use (memory is about blocks x 64 entries): at most 4 * size() / 64 + 1.
  size_t block_count() const { return blocks_.size(); }
  // True when every range is live and replayed at its recorded address (a layout-faithful
  // backend), so that, for a backend that passes unknown addresses through unchanged, every
  // translation is the identity and the engine may skip Lookup. O(1): maintained on every change.
  bool all_identity() const { return non_identity_ == 0; }
  void Clear() {
    blocks_.clear();
    firsts_.clear();
    size_ = 0;
    non_identity_ = 0;
  }

 private:
  struct Range {
    uint64_t start = 0;  // recorded [start, end)
    uint64_t end = 0;
    uint64_t replayed = 0;  // replayed address of `start`
    bool dead = false;
    bool identity() const { return !dead && replayed == start; }
  };
  // A position in the sequence: entry `i` of block `b`; b == blocks_.size() is the end.
  struct Pos {
    size_t b = 0;
    size_t i = 0;
  };
  static constexpr size_t kBlockCapacity = 64;

  bool AtEnd(Pos p) const { return p.b >= blocks_.size(); }
  Range& At(Pos p) { return blocks_[p.b][p.i]; }
  const Range& At(Pos p) const { return blocks_[p.b][p.i]; }
  Pos Next(Pos p) const;
  // The last range whose start is <= addr, or end when there is none.
  Pos Floor(uint64_t addr) const;
  // The first range whose end is > addr (the one containing addr, or the next one after it).
  Pos FirstEndingAfter(uint64_t addr) const;
  // Inserts r at its sorted position (REQUIRES: no overlap with existing ranges).
  void InsertSorted(const Range& r);
  // Erases the entry at p; returns the position of the entry that followed it.
  Pos Erase(Pos p);
  // Block p.b fell under a quarter full: merges it with a neighbour, or evens it out with one,
  // so that every block but a lone one stays at least a quarter full. Returns p's new position.
  Pos Rebalance(Pos p);

  std::vector<std::vector<Range>> blocks_;  // non-empty, sorted, disjoint, <= kBlockCapacity
  std::vector<uint64_t> firsts_;            // firsts_[b] == blocks_[b].front().start
  size_t size_ = 0;
  size_t non_identity_ = 0;  // ranges that are dead or replayed elsewhere
};

}  // namespace vmreplay::replay
