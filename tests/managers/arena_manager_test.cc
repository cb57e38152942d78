#include "replayer/managers/arena_manager.h"

#include <gtest/gtest.h>

#include "tests/managers/manager_test_util.h"
#include "tests/replayer/replay_test_util.h"

namespace vmreplay::replay {
namespace {

using namespace testing;

TEST(ArenaManagerTest, ReservesOnceUpFrontAndServesInside) {
  Cell c = MakeCell("arena:size=16M");
  ASSERT_TRUE(c.status.ok()) << c.status.message();
  auto& arena = static_cast<ArenaManager&>(c.m());
  EXPECT_EQ(c.platform->reserved_bytes(), 16 * kMiB);  // Before any call of the trace.
  const uint64_t a = Reserve(c.m(), kMiB);
  ASSERT_NE(a, 0u);
  EXPECT_GE(a, arena.base());
  EXPECT_LE(a + kMiB, arena.base() + arena.size());
  ASSERT_EQ(Commit(c.m(), a, 64 * kKiB), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 64 * kKiB);
  // What the CLR sees is its reservation, not the arena.
  sim::MemoryBasicInformation info;
  uint32_t error = 0;
  ASSERT_NE(c.m().VirtualQuery(a + 4096, &info, &error), 0u);
  EXPECT_EQ(info.allocation_base, a);
  EXPECT_EQ(info.state, win32::kMemCommit);
  ASSERT_EQ(Release(c.m(), a), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 0u);        // Decommitted at the platform,
  EXPECT_EQ(c.platform->reserved_bytes(), 16 * kMiB);  // still reserved.
  const PlatformStats s = c.platform->stats();
  EXPECT_EQ(Calls(s, "VirtualAlloc reserve"), 1u);  // The arena itself.
  EXPECT_EQ(Calls(s, "VirtualFree release"), 0u);
  EXPECT_EQ(Calls(s, "VirtualFree decommit"), 1u);
  // Win32 errors still come from the CLR's view.
  EXPECT_EQ(Release(c.m(), a), win32::kErrorInvalidAddress);
}

TEST(ArenaManagerTest, WhatDoesNotFitFailsAndSaysSo) {
  Cell c = MakeCell("arena:size=1M");
  ASSERT_TRUE(c.status.ok());
  uint32_t error = 0;
  EXPECT_EQ(Reserve(c.m(), 2 * kMiB, &error), 0u);
  EXPECT_EQ(error, win32::kErrorNotEnoughMemory);
  const ManagerStats s = c.m().stats();
  EXPECT_EQ(Figure(s, "arena did not fit"), 1);
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_NE(s.notes[0].find("did not fit in the 1.00 MiB arena (the largest 2.00 MiB, more than "
                            "the whole arena): raise --manager=arena:size="),
            std::string::npos)
      << s.notes[0];
}

TEST(ArenaManagerTest, CommitPastThePlatformLimitLeavesTheViewUnchanged) {
  Cell c = MakeCell("arena:size=16M", true, "bottom-up", /*commit_limit=*/kMiB);
  ASSERT_TRUE(c.status.ok());
  const uint64_t a = Reserve(c.m(), 4 * kMiB);
  ASSERT_NE(a, 0u);
  EXPECT_EQ(Commit(c.m(), a, 2 * kMiB), win32::kErrorCommitmentLimit);
  sim::MemoryBasicInformation info;
  uint32_t error = 0;
  ASSERT_NE(c.m().VirtualQuery(a, &info, &error), 0u);
  EXPECT_EQ(info.state, win32::kMemReserve);
  EXPECT_EQ(Commit(c.m(), a, kMiB), 0u);
}

TEST(ArenaManagerTest, NextFitMovesOnWhereFirstFitReuses) {
  for (const char* placement : {"first-fit", "next-fit"}) {
    Cell c = MakeCell(std::string("arena:size=16M,placement=") + placement);
    ASSERT_TRUE(c.status.ok());
    const uint64_t a = Reserve(c.m(), kMiB);
    ASSERT_EQ(Release(c.m(), a), 0u);
    const uint64_t b = Reserve(c.m(), kMiB);
    if (std::string(placement) == "first-fit") {
      EXPECT_EQ(b, a);
    } else {
      EXPECT_EQ(b, a + kMiB);
    }
  }
}

// Holes of 128 KiB and 64 KiB, then requests of 64 KiB and 128 KiB: first fit splits the large
// hole for the small request and must put the large one at the end; best fit fills both holes.
TEST(ArenaManagerTest, BestFitLeavesLessFragmentationThanFirstFitOnATraceBuiltToShowIt) {
  const std::string kTrace =
      std::string(kWindowsHeader) +
      "VirtualAlloc thread=1 ts=0 lat=0 addr=0x0 size=131072 flags=0x2000 protect=0x1 level=0 -> "
      "result=0x10000000 hresult=0x0 error=0\n"
      "VirtualAlloc thread=1 ts=1 lat=0 addr=0x0 size=65536 flags=0x2000 protect=0x1 level=0 -> "
      "result=0x10020000 hresult=0x0 error=0\n"
      "VirtualAlloc thread=1 ts=2 lat=0 addr=0x0 size=65536 flags=0x2000 protect=0x1 level=0 -> "
      "result=0x10030000 hresult=0x0 error=0\n"
      "VirtualAlloc thread=1 ts=3 lat=0 addr=0x0 size=65536 flags=0x2000 protect=0x1 level=0 -> "
      "result=0x10040000 hresult=0x0 error=0\n"
      "VirtualFree thread=1 ts=4 lat=0 addr=0x10000000 size=0 flags=0x8000 -> hresult=0x0 "
      "error=0\n"
      "VirtualFree thread=1 ts=5 lat=0 addr=0x10030000 size=0 flags=0x8000 -> hresult=0x0 "
      "error=0\n"
      "VirtualAlloc thread=1 ts=6 lat=0 addr=0x0 size=65536 flags=0x2000 protect=0x1 level=0 -> "
      "result=0x10030000 hresult=0x0 error=0\n"
      "VirtualAlloc thread=1 ts=7 lat=0 addr=0x0 size=131072 flags=0x2000 protect=0x1 level=0 -> "
      "result=0x10000000 hresult=0x0 error=0\n";
  const std::string path = WriteTrace(kTrace);
  double fragmentation[2];
  for (int i = 0; i < 2; ++i) {
    ReplayOptions o;
    o.manager = i == 0 ? "arena:size=1M,placement=first-fit" : "arena:size=1M,placement=best-fit";
    ReplayMetrics m;
    ASSERT_TRUE(ReplayTrace(path, o, &m).ok());
    EXPECT_EQ(m.divergences, 0u) << o.manager;
    fragmentation[i] = Figure(m, "arena fragmentation end");
  }
  EXPECT_DOUBLE_EQ(fragmentation[1], 0.0);  // best fit: one free block, the tail
  // first fit: 64 KiB holes at 64 KiB and 192 KiB beside the 576 KiB tail.
  EXPECT_DOUBLE_EQ(fragmentation[0], 1.0 - 576.0 / 704.0);
  unlink(path.c_str());
}

TEST(ArenaManagerTest, LinuxMappingsLiveInsideTheArena) {
  Cell c = MakeCell("arena:size=64M", /*windows=*/false);
  ASSERT_TRUE(c.status.ok()) << c.status.message();
  auto& arena = static_cast<ArenaManager&>(c.m());
  using namespace linux_abi;
  const int anon = kMapPrivate | kMapAnonymous;
  const VmResult a = c.m().Mmap(0, 8 * kMiB, kProtRead | kProtWrite, anon, 0x7f0000000000);
  ASSERT_EQ(a.error, 0u);
  EXPECT_GE(a.address, arena.base());
  EXPECT_EQ(c.platform->committed_bytes(), 8 * kMiB);
  // A shared file mapping is backed by its file: mapped over the arena, not charged.
  const VmResult f = c.m().Mmap(0, kMiB, kProtRead, kMapShared, 0);
  ASSERT_EQ(f.error, 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 8 * kMiB);
  ASSERT_EQ(c.m().Munmap(a.address + 4 * kMiB, 4 * kMiB), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 4 * kMiB);
  const VmResult g = c.m().Mremap(a.address, 4 * kMiB, 12 * kMiB, kMremapMayMove, 0, 0);
  ASSERT_EQ(g.error, 0u);
  EXPECT_GE(g.address, arena.base());
  EXPECT_LE(g.address + 12 * kMiB, arena.base() + arena.size());
  EXPECT_EQ(c.platform->committed_bytes(), 12 * kMiB);
  ASSERT_EQ(c.m().Munmap(g.address, 12 * kMiB), 0u);
  ASSERT_EQ(c.m().Munmap(f.address, kMiB), 0u);
  EXPECT_EQ(c.platform->committed_bytes(), 0u);
  EXPECT_EQ(c.platform->reserved_bytes(), 64 * kMiB);
  EXPECT_EQ(c.sim().CheckInvariants(), "");
  EXPECT_EQ(arena.view().CheckInvariants(), "");
}

TEST(ArenaManagerTest, ARealClrReservationLargerThanTheArenaIsNamed) {
  // The regions GC reserves 2 x RAM at start-up, more than the default 64 GiB arena here.
  const std::string kTrace =
      std::string(kWindowsHeader) +
      "VirtualAlloc thread=1 ts=0 lat=0 addr=0x0 size=274877906944 flags=0x2000 protect=0x1 "
      "level=2 -> result=0x7f0000000000 hresult=0x0 error=0\n";
  const std::string path = WriteTrace(kTrace);
  ReplayOptions o;
  o.manager = "arena";
  ReplayMetrics m;
  ASSERT_TRUE(ReplayTrace(path, o, &m).ok());
  EXPECT_EQ(m.divergences, 1u);
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_NE(m.notes[0].find("256.00 GiB, more than the whole arena"), std::string::npos)
      << m.notes[0];
  unlink(path.c_str());
}

}  // namespace
}  // namespace vmreplay::replay
