#include "replayer/managers/large_pages_manager.h"

#include <gtest/gtest.h>

#include "tests/managers/manager_test_util.h"

namespace vmreplay::replay {
namespace {

using namespace testing;

TEST(LargePagesManagerTest, CommitsWholeLargePagesAndGivesThemBackWhenUnused) {
  Cell c = MakeCell("large-pages");
  ASSERT_TRUE(c.status.ok());
  const uint64_t a = Reserve(c.m(), 3 * kMiB);
  ASSERT_NE(a, 0u);
  EXPECT_EQ(a % (2 * kMiB), 0u);                      // on a large-page boundary
  EXPECT_EQ(c.platform->reserved_bytes(), 4 * kMiB);  // whole large pages
  ASSERT_EQ(Commit(c.m(), a, 4096), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 2 * kMiB);
  ASSERT_EQ(Commit(c.m(), a + kMiB, 4096), 0u);  // same large page: no new commit
  EXPECT_EQ(c.platform->committed_bytes(), 2 * kMiB);
  ASSERT_EQ(Commit(c.m(), a + 2 * kMiB + 4096, 4096), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 4 * kMiB);
  // The CLR sees exactly what it asked for.
  sim::MemoryBasicInformation info;
  uint32_t error = 0;
  ASSERT_NE(c.m().VirtualQuery(a, &info, &error), 0u);
  EXPECT_EQ(info.region_size, 4096u);
  EXPECT_EQ(info.state, win32::kMemCommit);
  ASSERT_NE(c.m().VirtualQuery(a + 3 * kMiB, &info, &error), 0u);
  EXPECT_EQ(info.state, win32::kMemFree);  // past its 3 MiB reservation
  ASSERT_EQ(Decommit(c.m(), a, 4096), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 4 * kMiB);  // a + 1 MiB still uses the first page
  ASSERT_EQ(Decommit(c.m(), a + kMiB, 4096), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 2 * kMiB);
  ASSERT_EQ(Release(c.m(), a), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 0u);
  EXPECT_EQ(c.platform->reserved_bytes(), 0u);
  EXPECT_GE(Calls(c.platform->stats(), "huge-page advice"), 1u);
}

// Checks after every event that the platform's commit is a whole number of large pages.
class WholeLargePages final : public ReplayObserver {
 public:
  void AfterEvent(const Event&, uint64_t index, Platform& platform, const ReplayMetrics&) override {
    if (platform.committed_bytes() % (2 * kMiB) != 0 && bad_ == UINT64_MAX) bad_ = index;
  }
  uint64_t bad_ = UINT64_MAX;
};

TEST(LargePagesManagerTest, CommitIsAMultipleOfTheLargePageAndAtLeastPassthroughs) {
  for (const char* trace : {"traces/synth/server-gc.pb", "traces/synth/workstation-gc.pb",
                            "traces/synth/pressure.pb", "traces/windows/clr_driver.pb"}) {
    WholeLargePages check;
    const ReplayMetrics large = ReplayBundled(trace, "large-pages", &check);
    const ReplayMetrics plain = ReplayBundled(trace, "passthrough");
    EXPECT_EQ(check.bad_, UINT64_MAX)
        << trace << ": not whole large pages after event " << check.bad_;
    EXPECT_EQ(large.divergences, 0u) << trace;
    EXPECT_EQ(large.vm.peak_committed_bytes % (2 * kMiB), 0u) << trace;
    EXPECT_GE(large.vm.peak_committed_bytes, plain.vm.peak_committed_bytes) << trace;
    EXPECT_GE(large.vm.peak_reserved_bytes, plain.vm.peak_reserved_bytes) << trace;
  }
}

TEST(LargePagesManagerTest, ThePageMustBeAPowerOfTwoPageMultiple) {
  EXPECT_FALSE(MakeCell("large-pages:page=3M").status.ok());
  EXPECT_FALSE(MakeCell("large-pages:page=1K").status.ok());
  Cell c = MakeCell("large-pages:page=1G");
  ASSERT_TRUE(c.status.ok());
  ASSERT_NE(Reserve(c.m(), kMiB), 0u);
  EXPECT_EQ(c.platform->reserved_bytes(), kGiB);
}

}  // namespace
}  // namespace vmreplay::replay
