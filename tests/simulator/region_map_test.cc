#include "simulator/region_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace vmreplay::sim {
namespace {

Region Make(uint64_t end, uint64_t base, uint32_t state, uint32_t protect) {
  return Region{end, base, 0x04, state, protect, 0x20000, false};
}

TEST(RegionMapTest, InsertCoalescesEqualNeighboursOnly) {
  RegionMap map;
  map.Insert(0x1000, Make(0x2000, 0x1000, 0x2000, 0));
  map.Insert(0x3000, Make(0x4000, 0x1000, 0x2000, 0));
  EXPECT_EQ(map.size(), 2u);
  map.Insert(0x2000, Make(0x3000, 0x1000, 0x2000, 0));
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(map.begin()->second.end, 0x4000u);
  map.Insert(0x4000, Make(0x5000, 0x4000, 0x2000, 0));  // Other allocation: separate.
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(map.CheckInvariants(), "");
}

TEST(RegionMapTest, SplitRangeThenCoalesce) {
  RegionMap map;
  map.Insert(0x10000, Make(0x20000, 0x10000, 0x2000, 0));
  auto first = map.SplitRange(0x12000, 0x14000);
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(first->first, 0x12000u);
  EXPECT_EQ(first->second.end, 0x14000u);
  first->second.state = 0x1000;
  first->second.protect = 0x04;
  map.CoalesceFrom(first, 0x14000);
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.Find(0x13FFF)->first, 0x12000u);
  EXPECT_EQ(map.Find(0x20000), map.end());
  EXPECT_EQ(map.Find(0xFFFF), map.end());
  // Revert: everything merges back.
  first = map.SplitRange(0x12000, 0x14000);
  first->second.state = 0x2000;
  first->second.protect = 0;
  map.CoalesceFrom(first, 0x14000);
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(map.CheckInvariants(), "");
}

TEST(RegionMapTest, CheckInvariantsDetectsUncoalescedRegions) {
  RegionMap map;
  map.Insert(0x1000, Make(0x2000, 0x1000, 0x2000, 0));
  auto first = map.SplitRange(0x1000, 0x1800);
  EXPECT_EQ(first->second.end, 0x1800u);
  EXPECT_NE(map.CheckInvariants(), "");
}

}  // namespace
}  // namespace vmreplay::sim

namespace vmreplay::sim {
namespace {

// Thousands of regions: block splits, erasures spanning blocks, in-place start moves and
// compaction, checked against std::map.
TEST(RegionMapTest, ManyRegionsMatchStdMap) {
  RegionMap map;
  std::map<uint64_t, Region> ref;
  std::mt19937_64 rng(5);
  constexpr uint64_t kSlots = 5000;
  auto attrs = [](uint64_t slot) { return Make(0, slot % 7, 0x2000, 0); };  // Neighbours differ.
  for (int step = 0; step < 40000; ++step) {
    const uint64_t slot = rng() % kSlots;
    const uint64_t start = (slot + 1) * 0x10000;  // > 0, so start - 1 is a valid bound.
    const int action = static_cast<int>(rng() % 4);
    if (action <= 1 && !ref.count(start)) {
      // Insert a region covering the first half of the slot (never adjacent to another).
      Region r = attrs(slot);
      r.end = start + 0x8000;
      map.Insert(start, r);
      ref[start] = r;
    } else if (action == 2) {
      // Erase every region in a run of slots.
      const uint64_t end = start + (1 + rng() % 300) * 0x10000;
      map.Erase(map.UpperBound(start - 1), map.UpperBound(end - 1));
      ref.erase(ref.lower_bound(start), ref.lower_bound(end));
      map.Compact();
    } else if (auto it = map.Find(start); it != map.end()) {
      // Move the start up by a page in place, as a boundary move would.
      map.SetStart(it, start + 0x1000);
      Region r = ref[start];
      ref.erase(start);
      ref[start + 0x1000] = r;
      // And back.
      map.SetStart(map.Find(start + 0x1000), start);
      ref.erase(start + 0x1000);
      ref[start] = r;
    }
    if (step % 5000 == 0) {
      ASSERT_EQ(map.CheckInvariants(), "");
    }
  }
  // Thin out to 1 region in 20, one erase at a time (blocks become sparse), then repack.
  int k = 0;
  for (auto r = ref.begin(); r != ref.end();) {
    if (k++ % 20 == 0) {
      ++r;
      continue;
    }
    auto found = map.Find(r->first);
    ASSERT_NE(found, map.end());
    auto after = found;
    ++after;
    map.Erase(found, after);
    r = ref.erase(r);
  }
  map.Compact();
  ASSERT_EQ(map.size(), ref.size());
  auto it = ref.begin();
  for (const auto& e : map) {
    ASSERT_EQ(e.first, it->first);
    ASSERT_EQ(e.second.end, it->second.end);
    ++it;
  }
  EXPECT_EQ(map.CheckInvariants(), "");
}

}  // namespace
}  // namespace vmreplay::sim
