// Translation of recorded addresses to replayed ones.
//
// The recorded process and the backend place reservations / mappings at different addresses, so
// the engine remembers, for every live recorded range (a VirtualAlloc reservation or an mmap
// mapping), where the backend put it. An address inside a range translates to the same offset
// inside the replayed range, so commits, decommits, protections and queries of part of a
// reservation translate too. A range whose replay failed while the recording succeeded is kept as
// "dead": calls into it are skipped (they depend on a call that failed in replay).
//
// Memory: one entry per live recorded range. Lookup, insert and remove are O(log n) (+ the number
// of ranges a removal splits or drops).
#pragma once

#include <cstdint>
#include <map>
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

  size_t size() const { return ranges_.size(); }
  void Clear() { ranges_.clear(); }

 private:
  struct Range {
    uint64_t end = 0;
    uint64_t replayed = 0;
    bool dead = false;
  };
  std::map<uint64_t, Range> ranges_;  // recorded start -> range
};

}  // namespace vmreplay::replay
