#include "replayer/engine/address_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace vmreplay::replay {
namespace {

TEST(AddressMapTest, TranslatesOffsetsInsideRanges) {
  AddressMap m;
  m.Insert(RecordedAddr{0x10000}, 0x20000, ReplayedAddr{0x7f0000000000});
  auto hit = m.Lookup(RecordedAddr{0x10000 + 0x1234});
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->address.value, 0x7f0000001234u);
  EXPECT_EQ(hit->range_end, 0x30000u);
  EXPECT_FALSE(m.Lookup(RecordedAddr{0x30000}));
  EXPECT_FALSE(m.Lookup(RecordedAddr{0xffff}));
}

TEST(AddressMapTest, PartialRemoveSplits) {
  AddressMap m;
  m.Insert(RecordedAddr{0x100000}, 0x10000, ReplayedAddr{0x500000});
  m.Remove(RecordedAddr{0x104000}, 0x4000);  // Hole in the middle.
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.Lookup(RecordedAddr{0x103fff})->address.value, 0x503fffu);
  EXPECT_FALSE(m.Lookup(RecordedAddr{0x104000}));
  EXPECT_EQ(m.Lookup(RecordedAddr{0x108000})->address.value, 0x508000u);
}

TEST(AddressMapTest, PiecesAcrossRangesAndGaps) {
  AddressMap m;
  m.Insert(RecordedAddr{0x1000}, 0x1000, ReplayedAddr{0xa000});
  m.Insert(RecordedAddr{0x3000}, 0x1000, ReplayedAddr{0xc000}, /*dead=*/true);
  const auto pieces = m.Pieces(RecordedAddr{0x1800}, 0x2800);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_TRUE(pieces[0].mapped);
  EXPECT_EQ(pieces[0].replayed.value, 0xa800u);
  EXPECT_EQ(pieces[0].size, 0x800u);
  EXPECT_FALSE(pieces[1].mapped);
  EXPECT_EQ(pieces[1].size, 0x1000u);
  EXPECT_TRUE(pieces[2].dead);
  EXPECT_EQ(pieces[2].size, 0x1000u);
}

TEST(AddressMapTest, InsertReplacesOverlapAndMarkDead) {
  AddressMap m;
  m.Insert(RecordedAddr{0x1000}, 0x4000, ReplayedAddr{0x10000});
  m.Insert(RecordedAddr{0x2000}, 0x1000, ReplayedAddr{0x90000});  // MAP_FIXED over the middle.
  EXPECT_EQ(m.Lookup(RecordedAddr{0x1000})->address.value, 0x10000u);
  EXPECT_EQ(m.Lookup(RecordedAddr{0x2010})->address.value, 0x90010u);
  EXPECT_EQ(m.Lookup(RecordedAddr{0x3000})->address.value, 0x12000u);
  m.MarkDead(RecordedAddr{0x2000});
  EXPECT_TRUE(m.Lookup(RecordedAddr{0x2000})->dead);
  EXPECT_FALSE(m.Lookup(RecordedAddr{0x1000})->dead);
}

// The previous std::map implementation, kept as the reference model for the blocked layout.
class ReferenceMap {
 public:
  struct Range {
    uint64_t end = 0;
    uint64_t replayed = 0;
    bool dead = false;
  };
  void Insert(uint64_t start, uint64_t size, uint64_t base, bool dead) {
    Remove(start, size);
    ranges_[start] = Range{start + size, base, dead};
  }
  void Remove(uint64_t start, uint64_t size) {
    const uint64_t end = start + size;
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
  void MarkDead(uint64_t addr) {
    auto it = ranges_.upper_bound(addr);
    if (it == ranges_.begin()) return;
    --it;
    if (addr < it->second.end) it->second.dead = true;
  }
  std::map<uint64_t, Range> ranges_;
};

// Random inserts, removals, MarkDead and Pieces, checked against ReferenceMap after every step.
// One in `odd` inserts is dead or relocated and one in `odd` steps marks dead (so a small `odd`
// keeps the map non-identity; a large one lets it return to all-identity often).
void CheckAgainstReference(uint64_t seed, uint64_t odd) {
  std::mt19937_64 rng(seed);
  size_t identity_steps = 0;
  AddressMap m;
  ReferenceMap ref;
  auto addr = [&] { return (rng() % 20000) << 12; };
  for (int step = 0; step < 200000; ++step) {
    const uint64_t a = addr();
    const uint64_t size = (1 + rng() % 64) << 12;
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2: {
        const bool dead = rng() % odd == 0;
        const uint64_t base = rng() % odd == 0 ? rng() % (1ull << 40) : a;
        m.Insert(RecordedAddr{a}, size, ReplayedAddr{base}, dead);
        ref.Insert(a, size, base, dead);
        break;
      }
      case 3:
      case 4:
        m.Remove(RecordedAddr{a}, size);
        ref.Remove(a, size);
        break;
      case 5:
        if (rng() % odd == 0) {
          m.MarkDead(RecordedAddr{a});
          ref.MarkDead(a);
        }
        break;
      default: {
        const auto pieces = m.Pieces(RecordedAddr{a}, size);
        uint64_t cursor = a;
        for (const auto& p : pieces) {
          ASSERT_EQ(p.recorded.value, cursor);
          cursor += p.size;
        }
        ASSERT_EQ(cursor, a + size);
        break;
      }
    }
    ASSERT_EQ(m.size(), ref.ranges_.size()) << "step " << step;
    bool all_identity = true;
    for (const auto& [start, r] : ref.ranges_) all_identity &= !r.dead && r.replayed == start;
    ASSERT_EQ(m.all_identity(), all_identity) << "step " << step;
    identity_steps += all_identity;
    const uint64_t q = addr() + rng() % 4096;
    auto hit = m.Lookup(RecordedAddr{q});
    auto it = ref.ranges_.upper_bound(q);
    const bool ref_hit = it != ref.ranges_.begin() && q < std::prev(it)->second.end;
    ASSERT_EQ(hit.has_value(), ref_hit) << "step " << step;
    if (ref_hit) {
      --it;
      ASSERT_EQ(hit->address.value, it->second.replayed + (q - it->first));
      ASSERT_EQ(hit->range_end, it->second.end);
      ASSERT_EQ(hit->dead, it->second.dead);
      ASSERT_EQ(m.RangeOf(RecordedAddr{q})->first.value, it->first);
    }
  }
  m.Clear();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_TRUE(m.all_identity());
  EXPECT_FALSE(m.Lookup(RecordedAddr{0x1000}));
  if (odd >= 1000) {
    EXPECT_GT(identity_steps, 1000u);  // all_identity() was exercised both ways.
  }
}

// A sliding window of live ranges (new ones at growing addresses, random old ones released) must
// not leave nearly empty blocks behind: memory follows the live ranges, not the history.
TEST(AddressMapTest, BlocksStayAQuarterFullUnderChurn) {
  AddressMap map;
  std::mt19937_64 rng(3);
  std::vector<uint64_t> live;
  uint64_t next = 0x10000;
  for (int step = 0; step < 400000; ++step) {
    if (live.size() < 10000) {
      map.Insert(RecordedAddr{next}, 0x1000, ReplayedAddr{next + 0x1000000000});
      live.push_back(next);
      next += 0x10000;
    } else {
      const size_t i = rng() % live.size();
      map.Remove(RecordedAddr{live[i]}, 0x1000);
      live[i] = live.back();
      live.pop_back();
    }
    if (step % 1000 == 0) {
      ASSERT_LE(map.block_count(), 4 * map.size() / 64 + 1) << "step " << step;
    }
  }
  EXPECT_EQ(map.size(), live.size());
}

TEST(AddressMapTest, MatchesReferenceOnRandomOperations) { CheckAgainstReference(7, 10); }

TEST(AddressMapTest, MatchesReferenceMostlyIdentity) { CheckAgainstReference(11, 3000); }

}  // namespace
}  // namespace vmreplay::replay
