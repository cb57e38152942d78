// The malloc family as IHostMalloc calls on one heap.
#include <gtest/gtest.h>

#include "tests/lift/lift_test_util.h"

namespace vmreplay::lift {
namespace {

TEST(HostMallocTest, EveryHeapCallOnTheOneHostHeap) {
  const auto l = testing::LiftText(
      "heap",
      "malloc thread=3 ts=10 lat=2 size=100 -> result=0x1000 error=0\n"
      "calloc thread=3 ts=20 lat=2 count=4 size=8 -> result=0x2000 error=0\n"
      // In place: the free first, so the heap never holds 0x1000 twice.
      "realloc thread=3 ts=30 lat=2 addr=0x1000 size=200 -> result=0x1000 error=0\n"
      // Moved: both blocks live for a moment, as in realloc.
      "realloc thread=3 ts=40 lat=2 addr=0x1000 size=5000 -> result=0x3000 error=0\n"
      "realloc thread=3 ts=50 lat=2 addr=0x0 size=10 -> result=0x4000 error=0\n"
      "realloc thread=3 ts=60 lat=2 addr=0x4000 size=0 -> result=0x0 error=0\n"
      "posix_memalign thread=3 ts=70 lat=2 alignment=64 size=256 -> result=0x5000 error=0\n"
      "malloc thread=3 ts=80 lat=2 size=1000000000000 -> result=0x0 error=12\n"
      "free thread=3 ts=90 lat=2 addr=0x0\n"
      "free thread=3 ts=95 lat=2 addr=0x2000\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  const std::vector<std::string> expected = {
      "CreateMalloc thread=3 ts=10 lat=0 flags=0x1 -> result=0x1 hresult=0x0",
      "HostAlloc thread=3 ts=10 lat=2 size=100 level=0 heap=1 -> result=0x1000 hresult=0x0",
      "HostAlloc thread=3 ts=20 lat=2 size=32 level=0 heap=1 -> result=0x2000 hresult=0x0",
      "HostFree thread=3 ts=30 lat=0 addr=0x1000 heap=1 -> hresult=0x0",
      "HostAlloc thread=3 ts=30 lat=2 size=200 level=0 heap=1 -> result=0x1000 hresult=0x0",
      "HostAlloc thread=3 ts=40 lat=2 size=5000 level=0 heap=1 -> result=0x3000 hresult=0x0",
      "HostFree thread=3 ts=40 lat=0 addr=0x1000 heap=1 -> hresult=0x0",
      "HostAlloc thread=3 ts=50 lat=2 size=10 level=0 heap=1 -> result=0x4000 hresult=0x0",
      "HostFree thread=3 ts=60 lat=2 addr=0x4000 heap=1 -> hresult=0x0",
      "HostAlloc thread=3 ts=70 lat=2 size=256 level=0 heap=1 -> result=0x5000 hresult=0x0",
      "HostAlloc thread=3 ts=80 lat=2 size=1000000000000 level=0 heap=1 -> result=0x0 "
      "hresult=0x8007000e",
      "HostFree thread=3 ts=95 lat=2 addr=0x2000 heap=1 -> hresult=0x0",
  };
  EXPECT_EQ(l.lines, expected);
  const LiftStats& s = l.result.stats;
  EXPECT_EQ(s.lifted(Lifted::kCreateHeap), 1u);
  EXPECT_EQ(s.lifted(Lifted::kMalloc), 2u);
  EXPECT_EQ(s.lifted(Lifted::kCalloc), 1u);
  EXPECT_EQ(s.lifted(Lifted::kRealloc), 4u);
  EXPECT_EQ(s.lifted(Lifted::kAlignedAlloc), 1u);
  EXPECT_EQ(s.lifted(Lifted::kFree), 1u);
  EXPECT_EQ(s.not_lifted(NotLifted::kFreeNull), 1u);
  EXPECT_EQ(testing::CountedEvents(s), s.events_in());
}

}  // namespace
}  // namespace vmreplay::lift
