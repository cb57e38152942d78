#include "replayer/managers/budget_manager.h"

#include <gtest/gtest.h>

#include "tests/managers/manager_test_util.h"
#include "vmreplay/host_memory_manager.h"

namespace vmreplay::replay {
namespace {

using namespace testing;

TEST(BudgetManagerTest, RefusesExactlyPastItsLimitLowestLevelFirst) {
  Cell c = MakeCell("budget:limit=1M,appdomain-reserve=512K,process-reserve=256K");
  ASSERT_TRUE(c.status.ok());
  const uint64_t a = Reserve(c.m(), 4 * kMiB);
  ASSERT_NE(a, 0u);
  uint64_t at = a;
  auto commit = [&](uint64_t bytes, uint32_t level) {
    const uint32_t error = Commit(c.m(), at, bytes, level);
    if (error == 0) at += bytes;
    return error;
  };
  EXPECT_EQ(commit(kMiB, eTaskCritical), 0u);  // exactly the limit
  EXPECT_EQ(commit(4096, eTaskCritical), win32::kErrorOutOfMemory);
  EXPECT_EQ(commit(512 * kKiB, eAppDomainCritical), 0u);
  EXPECT_EQ(commit(4096, eAppDomainCritical), win32::kErrorOutOfMemory);
  EXPECT_EQ(commit(4096, eTaskCritical), win32::kErrorOutOfMemory);
  EXPECT_EQ(commit(256 * kKiB, eProcessCritical), 0u);
  EXPECT_EQ(commit(4096, eProcessCritical), win32::kErrorOutOfMemory);
  // Recommitting committed pages needs nothing more.
  EXPECT_EQ(Commit(c.m(), a, kMiB, eTaskCritical), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), kMiB + 768 * kKiB);
  const ManagerStats s = c.m().stats();
  EXPECT_EQ(Figure(s, "refused eTaskCritical"), 2);
  EXPECT_EQ(Figure(s, "refused eAppDomainCritical"), 1);
  EXPECT_EQ(Figure(s, "refused eProcessCritical"), 1);
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_NE(s.notes[0].find("4 request(s) refused past the 1.00 MiB budget"), std::string::npos)
      << s.notes[0];
  // A decommit makes room again.
  ASSERT_EQ(Decommit(c.m(), a, kMiB), 0u);
  EXPECT_EQ(Commit(c.m(), at, 4096, eTaskCritical), 0u);
}

TEST(BudgetManagerTest, ProcessCriticalIsUnlimitedByDefault) {
  Cell c = MakeCell("budget:limit=1M");
  ASSERT_TRUE(c.status.ok());
  const uint64_t a = Reserve(c.m(), 64 * kMiB);
  EXPECT_EQ(Commit(c.m(), a, 32 * kMiB, eProcessCritical), 0u);
  EXPECT_EQ(Commit(c.m(), a + 32 * kMiB, 4096, eAppDomainCritical), win32::kErrorOutOfMemory);
}

TEST(BudgetManagerTest, MemoryLoadAndNotificationsComeFromTheBudget) {
  Cell c = MakeCell("budget:limit=10M");
  ASSERT_TRUE(c.status.ok());
  const uint64_t a = Reserve(c.m(), 16 * kMiB);
  ASSERT_EQ(Commit(c.m(), a, 5 * kMiB), 0u);
  EXPECT_EQ(c.m().GetMemoryLoad().load_percent, 50u);
  EXPECT_EQ(c.m().GetMemoryLoad().available_bytes, 5 * kMiB);
  EXPECT_FALSE(c.m().PollNotification(1).has_value());  // 50 %: neutral
  ASSERT_EQ(Commit(c.m(), a + 5 * kMiB, 4 * kMiB + 512 * kKiB), 0u);
  const auto low = c.m().PollNotification(2);
  ASSERT_TRUE(low.has_value());
  EXPECT_EQ(low->level, sim::MemoryAvailable::kLow);
  ASSERT_EQ(Decommit(c.m(), a, 9 * kMiB), 0u);
  const auto high = c.m().PollNotification(3);
  ASSERT_TRUE(high.has_value());
  EXPECT_EQ(high->level, sim::MemoryAvailable::kHigh);
}

TEST(BudgetManagerTest, HostMallocCountsAgainstTheBudget) {
  Cell c = MakeCell("budget:limit=1M,appdomain-reserve=0");
  ASSERT_TRUE(c.status.ok());
  HeapBackend* heap = c.m().CreateMalloc();
  void* p = heap->Alloc(768 * kKiB, 0, eTaskCritical);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(heap->Alloc(512 * kKiB, 0, eTaskCritical), nullptr);
  const uint64_t a = Reserve(c.m(), kMiB);
  EXPECT_EQ(Commit(c.m(), a, 512 * kKiB), win32::kErrorOutOfMemory);
  heap->Free(p);
  EXPECT_EQ(Commit(c.m(), a, 512 * kKiB), 0u);
  EXPECT_EQ(Figure(c.m().stats(), "refused eTaskCritical"), 2);
}

TEST(BudgetManagerTest, OnATraceEveryRefusalIsADivergenceAndNothingElseIs) {
  const ReplayMetrics roomy = ReplayBundled("traces/synth/server-gc.pb", "budget:limit=1G");
  EXPECT_EQ(roomy.divergences, 0u);
  EXPECT_EQ(roomy.notes.size(), 0u);
  const ReplayMetrics tight = ReplayBundled("traces/synth/server-gc.pb", "budget:limit=160M");
  const double refused = Figure(tight, "refused eTaskCritical") +
                         Figure(tight, "refused eAppDomainCritical") +
                         Figure(tight, "refused eProcessCritical");
  EXPECT_GT(refused, 0);
  EXPECT_LE(tight.vm.peak_committed_bytes, 160 * kMiB + 16 * kMiB);
  // Each refused call diverges; calls into what a refusal left unmade are skipped, not compared.
  EXPECT_EQ(static_cast<double>(tight.divergences), refused);
}

}  // namespace
}  // namespace vmreplay::replay
