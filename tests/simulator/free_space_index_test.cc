#include "simulator/free_space_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace vmreplay::sim {
namespace {

// The brute-force model's answer: the largest run of free units and the free total, in bytes.
struct FreeRuns {
  uint64_t largest = 0;
  uint64_t total = 0;
};
FreeRuns RunsOf(const std::vector<bool>& free, uint64_t unit) {
  FreeRuns r;
  uint64_t run = 0;
  for (bool f : free) {
    run = f ? run + unit : 0;
    r.total += f ? unit : 0;
    r.largest = std::max(r.largest, run);
  }
  return r;
}

using Blocks = std::vector<std::pair<uint64_t, uint64_t>>;

TEST(FreeSpaceIndexTest, FreeMergesAdjacentBlocks) {
  FreeSpaceIndex index(0x1000, 0x10000);
  index.Free(0x10000, 0x20000);
  index.Free(0x30000, 0x40000);
  EXPECT_EQ(index.Blocks(), (Blocks{{0x10000, 0x20000}, {0x30000, 0x40000}}));
  index.Free(0x20000, 0x30000);  // Bridges both.
  EXPECT_EQ(index.Blocks(), (Blocks{{0x10000, 0x40000}}));
  index.Free(0x40000, 0x41000);  // Extends up.
  index.Free(0xF000, 0x10000);   // Extends down.
  EXPECT_EQ(index.Blocks(), (Blocks{{0xF000, 0x41000}}));
  EXPECT_EQ(index.total(), 0x32000u);
  EXPECT_EQ(index.largest(), 0x32000u);
  EXPECT_EQ(index.CheckInvariants(), "");
}

TEST(FreeSpaceIndexTest, AllocateSplitsBlocks) {
  FreeSpaceIndex index(0x1000, 0x10000);
  index.Free(0x10000, 0x100000);
  index.Allocate(0x10000, 0x20000);   // Front.
  index.Allocate(0xF0000, 0x100000);  // Back.
  index.Allocate(0x50000, 0x51000);   // Middle.
  EXPECT_EQ(index.Blocks(), (Blocks{{0x20000, 0x50000}, {0x51000, 0xF0000}}));
  EXPECT_TRUE(index.Contains(0x20000, 0x50000));
  EXPECT_FALSE(index.Contains(0x20000, 0x51000));
  EXPECT_FALSE(index.Contains(0x50000, 0x51000));
  EXPECT_EQ(index.BlockContaining(0x52345), (std::make_pair<uint64_t, uint64_t>(0x51000, 0xF0000)));
  EXPECT_FALSE(index.BlockContaining(0x50000).has_value());
  index.Allocate(0x20000, 0x50000);  // Whole block.
  EXPECT_EQ(index.block_count(), 1u);
  EXPECT_EQ(index.CheckInvariants(), "");
}

TEST(FreeSpaceIndexTest, FindRespectsAlignment) {
  FreeSpaceIndex index(0x1000, 0x10000);
  index.Free(0x11000, 0x20000);  // 0xF000 bytes, coarse-usable 0.
  index.Free(0x31000, 0x50000);  // coarse-usable from 0x40000: 0x10000.
  index.Free(0x60000, 0x62000);
  EXPECT_EQ(index.FindLowest(0x1000, /*coarse=*/false), 0x11000u);
  EXPECT_EQ(index.FindLowest(0xF000, false), 0x11000u);
  EXPECT_EQ(index.FindLowest(0x10000, false), 0x31000u);
  EXPECT_EQ(index.FindLowest(0x1000, /*coarse=*/true), 0x40000u);
  EXPECT_EQ(index.FindLowest(0x10001, true), std::nullopt);
  EXPECT_EQ(index.FindHighest(0x1000, true), 0x60000u);
  EXPECT_EQ(index.FindHighest(0x3000, true), 0x40000u);
  EXPECT_EQ(index.FindHighest(0x1000, false), 0x61000u);
  EXPECT_EQ(index.FindHighest(0x1F000, false), 0x31000u);
  EXPECT_EQ(index.FindHighest(0x20000, false), std::nullopt);
  EXPECT_EQ(index.largest(), 0x1F000u);
}

// Against a brute-force model over many random operations.
TEST(FreeSpaceIndexTest, MatchesBruteForce) {
  constexpr uint64_t kUnit = 0x1000;
  constexpr uint64_t kCoarse = 0x4000;
  constexpr uint64_t kUnits = 512;
  std::mt19937_64 rng(42);
  FreeSpaceIndex index(kUnit, kCoarse);
  std::vector<bool> free(kUnits, false);
  for (int step = 0; step < 20000; ++step) {
    const uint64_t a = rng() % kUnits;
    const uint64_t len = 1 + rng() % 16;
    const uint64_t b = std::min(kUnits, a + len);
    bool all_free = true;
    bool none_free = true;
    for (uint64_t u = a; u < b; ++u) (free[u] ? none_free : all_free) = false;
    if (none_free) {
      index.Free(a * kUnit, b * kUnit);
      for (uint64_t u = a; u < b; ++u) free[u] = true;
    } else if (all_free) {
      index.Allocate(a * kUnit, b * kUnit);
      for (uint64_t u = a; u < b; ++u) free[u] = false;
    }
    // Queries.
    const uint64_t size = (1 + rng() % 24) * kUnit;
    for (bool coarse : {false, true}) {
      const uint64_t align = coarse ? kCoarse : kUnit;
      std::optional<uint64_t> lowest;
      std::optional<uint64_t> highest;
      for (uint64_t addr = 0; addr + size <= kUnits * kUnit; addr += align) {
        bool fits = true;
        for (uint64_t u = addr / kUnit; u < (addr + size) / kUnit && fits; ++u) fits = free[u];
        if (fits) {
          if (!lowest) lowest = addr;
          highest = addr;
        }
      }
      ASSERT_EQ(index.FindLowest(size, coarse), lowest) << "step " << step;
      ASSERT_EQ(index.FindHighest(size, coarse), highest) << "step " << step;
    }
    if (step % 1000 == 0) {
      ASSERT_EQ(index.CheckInvariants(), "");
    }
  }
  const FreeRuns want = RunsOf(free, kUnit);
  EXPECT_EQ(index.largest(), want.largest);
  EXPECT_EQ(index.total(), want.total);
  EXPECT_EQ(index.CheckInvariants(), "");
}

// Placement followed by allocation of the placed range (the reservation path, which reuses the
// search's root path), frees that merge with one, both or no neighbours, and Contains checks,
// against a brute-force model with the tree's invariants checked after every change.
TEST(FreeSpaceIndexTest, PlaceAllocateFreeMatchesBruteForce) {
  constexpr uint64_t kUnit = 0x1000;
  constexpr uint64_t kCoarse = 0x4000;
  constexpr uint64_t kUnits = 1024;
  std::mt19937_64 rng(7);
  FreeSpaceIndex index(kUnit, kCoarse);
  index.Free(0, kUnits * kUnit);
  std::vector<bool> free(kUnits, true);
  for (int step = 0; step < 20000; ++step) {
    const uint64_t size = (1 + rng() % 12) * kUnit;
    const bool coarse = rng() % 2 == 0;
    switch (rng() % 3) {
      case 0: {  // Place and allocate.
        const std::optional<uint64_t> at =
            rng() % 2 ? index.FindLowest(size, coarse) : index.FindHighest(size, coarse);
        if (!at) break;
        for (uint64_t u = *at / kUnit; u < (*at + size) / kUnit; ++u) {
          ASSERT_TRUE(free[u]) << "step " << step;
          free[u] = false;
        }
        index.Allocate(*at, *at + size);
        break;
      }
      case 1: {  // Contains, then allocate when it says so.
        const uint64_t a = (rng() % kUnits) * kUnit;
        const uint64_t b = std::min(kUnits * kUnit, a + size);
        bool all_free = true;
        for (uint64_t u = a / kUnit; u < b / kUnit; ++u) all_free = all_free && free[u];
        ASSERT_EQ(index.Contains(a, b), all_free) << "step " << step;
        if (all_free) {
          index.Allocate(a, b);
          for (uint64_t u = a / kUnit; u < b / kUnit; ++u) free[u] = false;
        }
        break;
      }
      default: {  // Free the allocated run around a random unit.
        uint64_t u = rng() % kUnits;
        if (free[u]) break;
        uint64_t a = u;
        uint64_t b = u + 1;
        while (a > 0 && !free[a - 1] && u - a < 8) --a;
        while (b < kUnits && !free[b] && b - u < 8) ++b;
        index.Free(a * kUnit, b * kUnit);
        for (uint64_t v = a; v < b; ++v) free[v] = true;
      }
    }
    ASSERT_EQ(index.CheckInvariants(), "") << "step " << step;
    const FreeRuns want = RunsOf(free, kUnit);
    ASSERT_EQ(index.largest(), want.largest) << "step " << step;
    ASSERT_EQ(index.total(), want.total) << "step " << step;
  }
}

}  // namespace
}  // namespace vmreplay::sim
