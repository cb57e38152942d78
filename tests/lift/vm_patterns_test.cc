// The lift's virtual-memory patterns, one hand-written recording each (the call sequences are
// those of gc/unix/gcenv.unix.cpp, pal/src/map/virtual.cpp and minipal/Unix/doublemapping.cpp),
// and what each becomes.
#include <gtest/gtest.h>

#include "replayer/engine/replay_engine.h"
#include "tests/lift/lift_test_util.h"

namespace vmreplay::lift {
namespace {

using testing::LiftText;

std::string Lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

void ExpectReplaysOnSimWithoutDivergence(const std::string& path) {
  replay::ReplayOptions options;
  options.platform = "sim";
  replay::ReplayMetrics m;
  ASSERT_TRUE(replay::ReplayTrace(path, options, &m).ok());
  EXPECT_EQ(m.divergences, 0u);
  EXPECT_EQ(m.untranslatable, 0u);
  EXPECT_EQ(m.skipped_dependent, 0u);
  EXPECT_EQ(m.vm.placement_fallbacks, 0u);
}

TEST(VmPatternsTest, GcReserveFoldsTheAlignmentTrimThenCommitDecommitRelease) {
  const auto l = LiftText(
      "gc_heap",
      // GCToOSInterface::VirtualReserve(2 MiB, 8 KiB): one page of padding, here at the head.
      "mmap thread=1 ts=100 lat=10 addr=0x0 size=2101248 flags=0x22 protect=0x0 fd=-1 offset=0 "
      "-> result=0x7f0000001000 error=0\n"
      "munmap thread=1 ts=120 lat=5 addr=0x7f0000001000 size=4096 -> error=0\n"
      "madvise thread=1 ts=130 lat=5 addr=0x7f0000002000 size=2097152 flags=0x10 -> error=0\n"
      // VirtualCommit, VirtualDecommit, VirtualRelease.
      "mprotect thread=1 ts=200 lat=10 addr=0x7f0000002000 size=65536 protect=0x3 -> error=0\n"
      "madvise thread=1 ts=215 lat=5 addr=0x7f0000002000 size=65536 flags=0x11 -> error=0\n"
      "mmap thread=1 ts=300 lat=10 addr=0x7f0000002000 size=65536 flags=0x32 protect=0x0 fd=-1 "
      "offset=0 -> result=0x7f0000002000 error=0\n"
      "madvise thread=1 ts=315 lat=5 addr=0x7f0000002000 size=65536 flags=0x10 -> error=0\n"
      "munmap thread=1 ts=400 lat=20 addr=0x7f0000002000 size=2097152 -> error=0\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  EXPECT_EQ(Lines(l.lines),
            "VirtualAlloc thread=1 ts=100 lat=35 addr=0x0 size=2097152 flags=0x2000 protect=0x1 "
            "level=0 -> result=0x7f0000002000 hresult=0x0 error=0\n"
            "VirtualAlloc thread=1 ts=200 lat=20 addr=0x7f0000002000 size=65536 flags=0x1000 "
            "protect=0x4 level=0 -> result=0x7f0000002000 hresult=0x0 error=0\n"
            "VirtualFree thread=1 ts=300 lat=20 addr=0x7f0000002000 size=65536 flags=0x4000 -> "
            "hresult=0x0 error=0\n"
            "VirtualFree thread=1 ts=400 lat=20 addr=0x7f0000002000 size=0 flags=0x8000 -> "
            "hresult=0x0 error=0\n");
  const LiftStats& s = l.result.stats;
  EXPECT_EQ(s.lifted(Lifted::kGcHeapReserve), 1u);
  EXPECT_EQ(s.lifted(Lifted::kCommit), 1u);
  EXPECT_EQ(s.lifted(Lifted::kDecommit), 1u);
  EXPECT_EQ(s.lifted(Lifted::kRelease), 1u);
  EXPECT_EQ(s.not_lifted(NotLifted::kFolded), 4u);  // trim + three coredump advices
  EXPECT_EQ(s.unclassified_total(), 0u);
  EXPECT_EQ(testing::CountedEvents(s), s.events_in());
  EXPECT_EQ(l.header.metadata().at(kGcHeapReservationsKey), "0x7f0000002000+0x200000");
  EXPECT_EQ(l.header.source(), proto::SOURCE_LIFTED);
  EXPECT_EQ(l.header.allocation_granularity(), 4096u);
  ASSERT_EQ(l.header.command_line_size(), 2);
  EXPECT_EQ(l.header.command_line(1), "app.dll");
  ExpectReplaysOnSimWithoutDivergence(l.path);
}

TEST(VmPatternsTest, TailTrimAndHandleTableSegment) {
  const auto l = LiftText(
      "trims",
      "mmap thread=1 ts=100 lat=10 addr=0x0 size=2101248 flags=0x22 protect=0x0 fd=-1 offset=0 "
      "-> result=0x7f0000000000 error=0\n"
      "munmap thread=1 ts=120 lat=5 addr=0x7f0000200000 size=4096 -> error=0\n"
      "madvise thread=1 ts=130 lat=5 addr=0x7f0000000000 size=2097152 flags=0x10 -> error=0\n"
      // handletablecore.cpp SegmentAlloc: 64 KiB at 64 KiB alignment, padding on both sides.
      "mmap thread=1 ts=200 lat=10 addr=0x0 size=126976 flags=0x22 protect=0x0 fd=-1 offset=0 "
      "-> result=0x7f1000004000 error=0\n"
      "munmap thread=1 ts=220 lat=5 addr=0x7f1000004000 size=49152 -> error=0\n"
      "munmap thread=1 ts=230 lat=5 addr=0x7f1000020000 size=12288 -> error=0\n"
      "madvise thread=1 ts=240 lat=5 addr=0x7f1000010000 size=65536 flags=0x10 -> error=0\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  ASSERT_EQ(l.lines.size(), 2u);
  EXPECT_NE(l.lines[0].find("size=2097152 flags=0x2000 protect=0x1 level=0 -> "
                            "result=0x7f0000000000"),
            std::string::npos);
  EXPECT_NE(l.lines[1].find("lat=45 addr=0x0 size=65536 flags=0x2000 protect=0x1 level=0 -> "
                            "result=0x7f1000010000"),
            std::string::npos);
  EXPECT_EQ(l.result.stats.lifted(Lifted::kGcHeapReserve), 1u);
  EXPECT_EQ(l.result.stats.lifted(Lifted::kGcHandleTableReserve), 1u);
  EXPECT_EQ(l.header.metadata().at(kGcHandleTableReservationsKey), "0x7f1000010000+0x10000");
  ExpectReplaysOnSimWithoutDivergence(l.path);
}

TEST(VmPatternsTest, PalReserveCommitAndProtect) {
  const auto l = LiftText(
      "pal",
      // PAL VirtualAlloc(MEM_RESERVE): ReserveVirtualMemory, then VIRTUALStoreAllocationInfo's
      // malloc; VirtualAlloc(MEM_COMMIT); VirtualProtect(PAGE_READONLY), (PAGE_NOACCESS).
      "mmap thread=2 ts=100 lat=10 addr=0x0 size=1048576 flags=0x22 protect=0x0 fd=-1 offset=0 "
      "-> result=0x7f1000000000 error=0\n"
      "madvise thread=2 ts=115 lat=5 addr=0x7f1000000000 size=1048576 flags=0x10 -> error=0\n"
      "malloc thread=2 ts=125 lat=5 size=48 -> result=0x5000 error=0\n"
      "mprotect thread=2 ts=200 lat=10 addr=0x7f1000000000 size=8192 protect=0x3 -> error=0\n"
      "madvise thread=2 ts=215 lat=5 addr=0x7f1000000000 size=8192 flags=0x11 -> error=0\n"
      "mprotect thread=2 ts=300 lat=10 addr=0x7f1000000000 size=4096 protect=0x1 -> error=0\n"
      "madvise thread=2 ts=315 lat=5 addr=0x7f1000000000 size=4096 flags=0x11 -> error=0\n"
      "mprotect thread=2 ts=400 lat=10 addr=0x7f1000000000 size=4096 protect=0x0 -> error=0\n"
      "madvise thread=2 ts=415 lat=5 addr=0x7f1000000000 size=4096 flags=0x10 -> error=0\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  EXPECT_EQ(Lines(l.lines),
            "VirtualAlloc thread=2 ts=100 lat=20 addr=0x0 size=1048576 flags=0x2000 protect=0x1 "
            "level=0 -> result=0x7f1000000000 hresult=0x0 error=0\n"
            "CreateMalloc thread=2 ts=125 lat=0 flags=0x1 -> result=0x1 hresult=0x0\n"
            "HostAlloc thread=2 ts=125 lat=5 size=48 level=0 heap=1 -> result=0x5000 "
            "hresult=0x0\n"
            "VirtualAlloc thread=2 ts=200 lat=20 addr=0x7f1000000000 size=8192 flags=0x1000 "
            "protect=0x4 level=0 -> result=0x7f1000000000 hresult=0x0 error=0\n"
            "VirtualProtect thread=2 ts=300 lat=20 addr=0x7f1000000000 size=4096 protect=0x2 -> "
            "hresult=0x0 error=0 old_protect=0x4\n"
            "VirtualProtect thread=2 ts=400 lat=20 addr=0x7f1000000000 size=4096 protect=0x1 -> "
            "hresult=0x0 error=0 old_protect=0x2\n");
  EXPECT_EQ(l.result.stats.lifted(Lifted::kReserve), 1u);
  EXPECT_EQ(l.result.stats.lifted(Lifted::kProtect), 2u);
  EXPECT_EQ(l.header.metadata().at(kGcHeapReservationsKey), "");  // the PAL's, not the GC's
  ExpectReplaysOnSimWithoutDivergence(l.path);
}

TEST(VmPatternsTest, ReserveAndCommitAcrossTheBookkeepingMalloc) {
  // PAL VirtualAlloc(MEM_RESERVE|MEM_COMMIT): no MADV_DONTDUMP, the list entry's malloc, then
  // the commit of all of it (no MADV_DODUMP: new memory). Emitted when complete, so its
  // timestamp steps back behind the malloc.
  const auto l = LiftText(
      "reserve_commit",
      "mmap thread=1 ts=100 lat=10 addr=0x0 size=65536 flags=0x22 protect=0x0 fd=-1 offset=0 -> "
      "result=0x7f1000000000 error=0\n"
      "malloc thread=1 ts=120 lat=5 size=48 -> result=0x5000 error=0\n"
      "mprotect thread=1 ts=130 lat=10 addr=0x7f1000000000 size=65536 protect=0x3 -> error=0\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  ASSERT_EQ(l.lines.size(), 3u);
  EXPECT_EQ(l.lines[2],
            "VirtualAlloc thread=1 ts=100 lat=40 addr=0x0 size=65536 flags=0x3000 protect=0x4 "
            "level=0 -> result=0x7f1000000000 hresult=0x0 error=0");
  EXPECT_EQ(l.result.stats.lifted(Lifted::kReserveAndCommit), 1u);
  ExpectReplaysOnSimWithoutDivergence(l.path);
}

TEST(VmPatternsTest, ExecutablePoolCodeViewsImagesAndWritableViews) {
  const auto l = LiftText(
      "wx",
      // ExecutableMemoryAllocator::TryReserveInitialMemory near libcoreclr.
      "mmap thread=1 ts=100 lat=10 addr=0x7f2000000000 size=268435456 flags=0x22 protect=0x0 "
      "fd=-1 offset=0 -> result=0x7f2000000000 error=0\n"
      "madvise thread=1 ts=115 lat=5 addr=0x7f2000000000 size=268435456 flags=0x10 -> error=0\n"
      // ReserveDoubleMappedMemory, CommitDoubleMappedMemory(executable), GetRWMapping and its
      // release.
      "mmap thread=1 ts=200 lat=10 addr=0x7f2000010000 size=65536 flags=0x11 protect=0x0 fd=8 "
      "offset=0 -> result=0x7f2000010000 error=0\n"
      "mprotect thread=1 ts=300 lat=10 addr=0x7f2000010000 size=4096 protect=0x5 -> error=0\n"
      "mmap thread=1 ts=400 lat=10 addr=0x0 size=4096 flags=0x1 protect=0x3 fd=8 offset=0 -> "
      "result=0x7f3000000000 error=0\n"
      "munmap thread=1 ts=500 lat=10 addr=0x7f3000000000 size=4096 -> error=0\n"
      // MAPMapPEFile: an image section in the pool, relocated.
      "mmap thread=1 ts=600 lat=10 addr=0x7f2000020000 size=4096 flags=0x12 protect=0x1 fd=9 "
      "offset=0 -> result=0x7f2000020000 error=0\n"
      "mprotect thread=1 ts=700 lat=10 addr=0x7f2000020000 size=4096 protect=0x3 -> error=0\n"
      // ReleaseDoubleMappedMemory: the zeroing remap, then munmap.
      "mmap thread=1 ts=800 lat=10 addr=0x7f2000010000 size=65536 flags=0x11 protect=0x3 fd=8 "
      "offset=0 -> result=0x7f2000010000 error=0\n"
      "munmap thread=1 ts=900 lat=10 addr=0x7f2000010000 size=65536 -> error=0\n"
      // The pool outside any view: W^X off would commit here without a visible reservation.
      "mprotect thread=1 ts=1000 lat=10 addr=0x7f2000030000 size=4096 protect=0x7 -> error=0\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  EXPECT_EQ(Lines(l.lines),
            "VirtualAlloc thread=1 ts=200 lat=10 addr=0x0 size=65536 flags=0x2000 protect=0x1 "
            "level=0 -> result=0x7f2000010000 hresult=0x0 error=0\n"
            "VirtualAlloc thread=1 ts=300 lat=10 addr=0x7f2000010000 size=4096 flags=0x1000 "
            "protect=0x20 level=0 -> result=0x7f2000010000 hresult=0x0 error=0\n"
            "AcquiredVirtualAddressSpace thread=1 ts=400 lat=10 addr=0x7f3000000000 size=4096 -> "
            "hresult=0x0\n"
            "ReleasedVirtualAddressSpace thread=1 ts=500 lat=10 addr=0x7f3000000000 -> "
            "hresult=0x0\n"
            "AcquiredVirtualAddressSpace thread=1 ts=600 lat=10 addr=0x7f2000020000 size=4096 -> "
            "hresult=0x0\n"
            "VirtualFree thread=1 ts=800 lat=110 addr=0x7f2000010000 size=0 flags=0x8000 -> "
            "hresult=0x0 error=0\n");
  const LiftStats& s = l.result.stats;
  EXPECT_EQ(s.not_lifted(NotLifted::kExecutablePool), 1u);
  EXPECT_EQ(s.lifted(Lifted::kCodeViewReserve), 1u);
  EXPECT_EQ(s.lifted(Lifted::kWritableView), 1u);
  EXPECT_EQ(s.lifted(Lifted::kViewRelease), 1u);
  EXPECT_EQ(s.lifted(Lifted::kImageSection), 1u);
  EXPECT_EQ(s.not_lifted(NotLifted::kViewProtect), 1u);
  EXPECT_EQ(s.lifted(Lifted::kCodeViewRelease), 1u);
  EXPECT_EQ(s.unclassified(Unclassified::kPoolOutsideView), 1u);
  EXPECT_EQ(testing::CountedEvents(s), s.events_in());
  EXPECT_EQ(l.header.metadata().at("lift.executable_pools"), "0x7f2000000000+0x10000000");
  ExpectReplaysOnSimWithoutDivergence(l.path);
}

TEST(VmPatternsTest, ResetWithAndWithoutTheKernelsConsent) {
  const auto l = LiftText(
      "reset",
      "mmap thread=1 ts=100 lat=10 addr=0x0 size=65536 flags=0x22 protect=0x0 fd=-1 offset=0 -> "
      "result=0x7f1000000000 error=0\n"
      "madvise thread=1 ts=115 lat=5 addr=0x7f1000000000 size=65536 flags=0x10 -> error=0\n"
      "mprotect thread=1 ts=200 lat=10 addr=0x7f1000000000 size=65536 protect=0x3 -> error=0\n"
      "madvise thread=1 ts=215 lat=5 addr=0x7f1000000000 size=65536 flags=0x11 -> error=0\n"
      // VirtualReset: MADV_FREE, then MADV_DONTDUMP.
      "madvise thread=1 ts=300 lat=10 addr=0x7f1000000000 size=8192 flags=0x8 -> error=0\n"
      "madvise thread=1 ts=315 lat=5 addr=0x7f1000000000 size=8192 flags=0x10 -> error=0\n"
      // Builds passing MADV_FREE|MADV_DONTDUMP as one value: EINVAL, posix_madvise (unseen),
      // MADV_DONTDUMP.
      "madvise thread=1 ts=400 lat=10 addr=0x7f1000002000 size=8192 flags=0x18 -> error=22\n"
      "madvise thread=1 ts=415 lat=5 addr=0x7f1000002000 size=8192 flags=0x10 -> error=0\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  ASSERT_EQ(l.lines.size(), 4u);
  EXPECT_EQ(l.lines[2],
            "VirtualAlloc thread=1 ts=300 lat=20 addr=0x7f1000000000 size=8192 flags=0x80000 "
            "protect=0x4 level=0 -> result=0x7f1000000000 hresult=0x0 error=0");
  EXPECT_NE(l.lines[3].find("addr=0x7f1000002000 size=8192 flags=0x80000"), std::string::npos);
  EXPECT_EQ(l.result.stats.lifted(Lifted::kReset), 1u);
  EXPECT_EQ(l.result.stats.lifted(Lifted::kResetRefusedByKernel), 1u);
  EXPECT_EQ(l.result.stats.unclassified_total(), 0u);
  ExpectReplaysOnSimWithoutDivergence(l.path);
}

TEST(VmPatternsTest, OtherThreadsGoOnWhileAPatternIsOpen) {
  // Thread 2 maps a file view between thread 1's mmap and its trim; thread 1's reservation is
  // still one lifted call, emitted when complete.
  const auto l = LiftText(
      "threads",
      "mmap thread=1 ts=100 lat=10 addr=0x0 size=2101248 flags=0x22 protect=0x0 fd=-1 offset=0 "
      "-> result=0x7f0000001000 error=0\n"
      "mmap thread=2 ts=105 lat=10 addr=0x0 size=4096 flags=0x2 protect=0x1 fd=5 offset=0 -> "
      "result=0x7f5000000000 error=0\n"
      "munmap thread=1 ts=120 lat=5 addr=0x7f0000001000 size=4096 -> error=0\n"
      "madvise thread=1 ts=130 lat=5 addr=0x7f0000002000 size=2097152 flags=0x10 -> error=0\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  ASSERT_EQ(l.lines.size(), 2u);
  EXPECT_EQ(l.lines[0].rfind("AcquiredVirtualAddressSpace thread=2 ts=105", 0), 0u);
  EXPECT_EQ(l.lines[1].rfind("VirtualAlloc thread=1 ts=100 lat=35", 0), 0u);
}

TEST(VmPatternsTest, NotLiftedMappingsOfTheRuntime) {
  const auto l = LiftText(
      "direct",
      // A PAL alternate signal stack and its guard page; a direct read-write mapping.
      "mmap thread=1 ts=100 lat=10 addr=0x0 size=16384 flags=0x20022 protect=0x3 fd=-1 offset=0 "
      "-> result=0x7f6000000000 error=0\n"
      "mprotect thread=1 ts=110 lat=10 addr=0x7f6000000000 size=4096 protect=0x0 -> error=0\n"
      "mmap thread=1 ts=200 lat=10 addr=0x0 size=4096 flags=0x22 protect=0x3 fd=-1 offset=0 -> "
      "result=0x7f6000100000 error=0\n"
      "munmap thread=1 ts=300 lat=10 addr=0x7f6000100000 size=4096 -> error=0\n"
      // Coredump advice alone and advice with no Win32 counterpart, on a reservation.
      "mmap thread=1 ts=400 lat=10 addr=0x0 size=65536 flags=0x22 protect=0x0 fd=-1 offset=0 -> "
      "result=0x7f1000000000 error=0\n"
      "madvise thread=1 ts=415 lat=5 addr=0x7f1000000000 size=65536 flags=0x10 -> error=0\n"
      "madvise thread=1 ts=500 lat=5 addr=0x7f1000000000 size=65536 flags=0x11 -> error=0\n"
      "madvise thread=1 ts=600 lat=5 addr=0x7f1000000000 size=65536 flags=0xe -> error=0\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  ASSERT_EQ(l.lines.size(), 1u);
  const LiftStats& s = l.result.stats;
  EXPECT_EQ(s.not_lifted(NotLifted::kThreadStack), 2u);
  EXPECT_EQ(s.not_lifted(NotLifted::kDirectMapping), 2u);
  EXPECT_EQ(s.not_lifted(NotLifted::kCoredumpAdvice), 1u);
  EXPECT_EQ(s.not_lifted(NotLifted::kOtherAdvice), 1u);
  EXPECT_EQ(testing::CountedEvents(s), s.events_in());
}

}  // namespace
}  // namespace vmreplay::lift
