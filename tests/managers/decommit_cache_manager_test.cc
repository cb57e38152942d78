#include "replayer/managers/decommit_cache_manager.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/managers/manager_test_util.h"

namespace vmreplay::replay {
namespace {

using namespace testing;

DecommitCacheManager& Cache(Cell& c) { return static_cast<DecommitCacheManager&>(c.m()); }

// What the platform holds committed is exactly the CLR's commit plus the cache.
void ExpectInvariant(Cell& c) {
  DecommitCacheManager& cache = Cache(c);
  ASSERT_EQ(c.platform->committed_bytes(),
            cache.view().metrics().committed_bytes + cache.cached_bytes());
}

TEST(DecommitCacheManagerTest, RecommitOfCachedPagesCostsNoPlatformCall) {
  Cell c = MakeCell("decommit-cache:size=4M");
  ASSERT_TRUE(c.status.ok());
  const uint64_t a = Reserve(c.m(), 4 * kMiB);
  ASSERT_EQ(Commit(c.m(), a, 2 * kMiB), 0u);
  ASSERT_EQ(Decommit(c.m(), a + kMiB, kMiB), 0u);
  ExpectInvariant(c);
  EXPECT_EQ(c.platform->committed_bytes(), 2 * kMiB);  // Kept for the CLR's next commit.
  sim::MemoryBasicInformation info;
  uint32_t error = 0;
  ASSERT_NE(c.m().VirtualQuery(a + kMiB, &info, &error), 0u);
  EXPECT_EQ(info.state, win32::kMemReserve);  // The CLR sees it decommitted.
  const uint64_t calls_before = c.platform->stats().calls.size();
  const PlatformStats before = c.platform->stats();
  ASSERT_EQ(Commit(c.m(), a + kMiB, kMiB), 0u);
  const PlatformStats after = c.platform->stats();
  EXPECT_EQ(Calls(after, "VirtualAlloc commit"), Calls(before, "VirtualAlloc commit"));
  EXPECT_EQ(after.calls.size(), calls_before);
  EXPECT_EQ(Figure(c.m().stats(), "cache hits (commits)"), 1);
  ExpectInvariant(c);
  EXPECT_EQ(Calls(after, "VirtualFree decommit"), 0u);
}

TEST(DecommitCacheManagerTest, AReleasedReservationServesTheNextOfItsSizeClass) {
  Cell c = MakeCell("decommit-cache:size=8M");
  ASSERT_TRUE(c.status.ok());
  const VmResult a = c.m().VirtualAlloc(0, 3 * kMiB, win32::kMemReserve | win32::kMemCommit,
                                        win32::kPageReadWrite, 0, 0);
  ASSERT_EQ(a.error, 0u);
  ASSERT_EQ(Release(c.m(), a.address), 0u);
  ExpectInvariant(c);
  EXPECT_EQ(c.platform->reserved_bytes(), 3 * kMiB);  // Kept.
  const PlatformStats before = c.platform->stats();
  // 2.5 MiB is in the same size class (up to 4 MiB) and fits: the same place, no call.
  const VmResult b =
      c.m().VirtualAlloc(0, 2 * kMiB + 512 * kKiB, win32::kMemReserve | win32::kMemCommit,
                         win32::kPageReadWrite, 0, 0);
  ASSERT_EQ(b.error, 0u);
  EXPECT_EQ(b.address, a.address);
  const PlatformStats after = c.platform->stats();
  EXPECT_EQ(after.calls, before.calls);
  EXPECT_EQ(Figure(c.m().stats(), "reservations reused"), 1);
  ExpectInvariant(c);
  // The CLR's view is its own request's size.
  sim::MemoryBasicInformation info;
  uint32_t error = 0;
  ASSERT_NE(c.m().VirtualQuery(b.address, &info, &error), 0u);
  EXPECT_EQ(info.region_size, 2 * kMiB + 512 * kKiB);
  // Asked for address space, the cache gives its kept reservations back.
  ASSERT_EQ(Release(c.m(), b.address), 0u);
  EXPECT_TRUE(c.m().NeedsVirtualAddressSpace(0, kGiB));
  EXPECT_EQ(c.platform->reserved_bytes(), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 0u);
  EXPECT_FALSE(c.m().NeedsVirtualAddressSpace(0, kGiB));
}

TEST(DecommitCacheManagerTest, TheOldestLeaveFirstAndTheCacheStaysWithinItsSize) {
  Cell c = MakeCell("decommit-cache:size=1M");
  ASSERT_TRUE(c.status.ok());
  const uint64_t a = Reserve(c.m(), 8 * kMiB);
  ASSERT_EQ(Commit(c.m(), a, 8 * kMiB), 0u);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Decommit(c.m(), a + i * 512 * kKiB, 512 * kKiB), 0u);
  EXPECT_EQ(Cache(c).cached_bytes(), kMiB);
  ExpectInvariant(c);
  // The two newest are kept: recommitting them is free, the first two cost a call.
  const PlatformStats before = c.platform->stats();
  ASSERT_EQ(Commit(c.m(), a + 1024 * kKiB, kMiB), 0u);
  EXPECT_EQ(Calls(c.platform->stats(), "VirtualAlloc commit"),
            Calls(before, "VirtualAlloc commit"));
  ASSERT_EQ(Commit(c.m(), a, kMiB), 0u);
  EXPECT_EQ(Calls(c.platform->stats(), "VirtualAlloc commit"),
            Calls(before, "VirtualAlloc commit") + 1);
  ExpectInvariant(c);
}

// Random reservations, commits, decommits and releases: every outcome is what passthrough
// answers (the policy changes no result the CLR sees), and the invariant holds after each call.
TEST(DecommitCacheManagerTest, RandomCallsSameOutcomesAsPassthroughAndExactAccounting) {
  for (const char* size : {"0", "1M", "64M"}) {
    SCOPED_TRACE(size);
    Cell cache = MakeCell(std::string("decommit-cache:size=") + size);
    Cell plain = MakeCell("passthrough");
    ASSERT_TRUE(cache.status.ok() && plain.status.ok());
    std::mt19937_64 rng(7);
    struct Live {
      uint64_t cache_base, plain_base, size;
    };
    std::vector<Live> live;
    for (int step = 0; step < 4000; ++step) {
      const int op = static_cast<int>(rng() % 10);
      if (live.empty() || op < 2) {
        const uint64_t bytes = (1 + rng() % 64) * 64 * kKiB;
        const uint32_t type =
            rng() % 2 ? win32::kMemReserve : win32::kMemReserve | win32::kMemCommit;
        const VmResult x = cache.m().VirtualAlloc(0, bytes, type, win32::kPageReadWrite, 0, 0);
        const VmResult y = plain.m().VirtualAlloc(0, bytes, type, win32::kPageReadWrite, 0, 0);
        ASSERT_EQ(x.error, y.error);
        if (x.error == 0) live.push_back({x.address, y.address, bytes});
      } else {
        const size_t i = rng() % live.size();
        const Live l = live[i];
        const uint64_t offset = (rng() % (l.size / 4096)) * 4096;
        const uint64_t length = (1 + rng() % ((l.size - offset) / 4096 + 2)) * 4096;
        if (op < 5) {
          const uint32_t protect = rng() % 4 == 0 ? win32::kPageReadOnly : win32::kPageReadWrite;
          ASSERT_EQ(Commit(cache.m(), l.cache_base + offset, length, 0, protect),
                    Commit(plain.m(), l.plain_base + offset, length, 0, protect));
        } else if (op < 8) {
          const uint64_t n = rng() % 3 == 0 ? 0 : length;  // size 0: to the end
          ASSERT_EQ(Decommit(cache.m(), l.cache_base + offset, n),
                    Decommit(plain.m(), l.plain_base + offset, n));
        } else {
          ASSERT_EQ(Release(cache.m(), l.cache_base), Release(plain.m(), l.plain_base));
          live.erase(live.begin() + static_cast<long>(i));
        }
      }
      ExpectInvariant(cache);
      ASSERT_EQ(Cache(cache).view().metrics().committed_bytes, plain.platform->committed_bytes());
      ASSERT_LE(Cache(cache).cached_bytes(), cache.m().stats().figures[0].value);
    }
    EXPECT_EQ(Cache(cache).view().CheckInvariants(), "");
    EXPECT_EQ(cache.sim().CheckInvariants(), "");
  }
}

TEST(DecommitCacheManagerTest, FewerDecommitsMoreCommitOnBundledClrTraces) {
  for (const char* trace : {"traces/synth/server-gc.pb", "traces/synth/workstation-gc.pb",
                            "traces/synth/pressure.pb", "traces/windows/clr_driver.pb"}) {
    const ReplayMetrics plain = ReplayBundled(trace, "passthrough");
    const ReplayMetrics cache = ReplayBundled(trace, "decommit-cache");
    EXPECT_EQ(cache.divergences, 0u) << trace;
    EXPECT_GE(cache.vm.peak_committed_bytes, plain.vm.peak_committed_bytes) << trace;
    const uint64_t plain_frees =
        Calls(plain.vm, "VirtualFree decommit") + Calls(plain.vm, "VirtualFree release");
    const uint64_t cache_frees =
        Calls(cache.vm, "VirtualFree decommit") + Calls(cache.vm, "VirtualFree release");
    EXPECT_LE(cache_frees, plain_frees) << trace;
    if (std::string(trace) != "traces/windows/clr_driver.pb") {
      EXPECT_LT(cache_frees, plain_frees) << trace;  // The GC's churn is served by the cache.
      EXPECT_GT(cache.vm.peak_committed_bytes, plain.vm.peak_committed_bytes) << trace;
    }
  }
}

}  // namespace
}  // namespace vmreplay::replay
