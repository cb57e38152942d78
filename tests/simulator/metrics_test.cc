// Exactness of the metrics on hand-computed layouts.
#include "simulator/metrics.h"

#include <gtest/gtest.h>

#include "simulator/address_space.h"
#include "simulator/win32_constants.h"

namespace vmreplay::sim {
namespace {

using namespace vmreplay::win32;  // NOLINT: constants only.

// A 1 MiB user space [0x10000, 0x110000) makes fragmentation easy to compute by hand.
AddressSpaceConfig Small() {
  AddressSpaceConfig config;
  config.min_address = 0x10000;
  config.max_address = 0x10FFFF;
  return config;
}

TEST(MetricsTest, PeaksRecordValueAndFirstEventReachingIt) {
  AddressSpace space(Small());
  space.set_event_index(1);
  uint64_t a = space.VirtualAlloc(0, 0x40000, kMemReserve, kPageReadWrite).address;
  space.set_event_index(2);
  space.VirtualAlloc(a, 0x3000, kMemCommit, kPageReadWrite);
  space.set_event_index(3);
  space.VirtualAlloc(a + 0x10000, 0x5000, kMemCommit, kPageReadWrite);  // Peak 0x8000.
  space.set_event_index(4);
  space.VirtualFree(a, 0x3000, kMemDecommit);
  space.set_event_index(5);
  space.VirtualAlloc(a, 0x3000, kMemCommit, kPageReadWrite);  // Equal to the peak: not new.
  space.set_event_index(6);
  uint64_t b = space.VirtualAlloc(0, 0x20000, kMemReserve, kPageReadWrite).address;
  space.set_event_index(7);
  space.VirtualFree(b, 0, kMemRelease);
  const Metrics& m = space.metrics();
  EXPECT_EQ(m.committed_bytes, 0x8000u);
  EXPECT_EQ(m.peak_committed_bytes, 0x8000u);
  EXPECT_EQ(m.peak_committed_event, 3u);
  EXPECT_EQ(m.reserved_bytes, 0x40000u);
  EXPECT_EQ(m.peak_reserved_bytes, 0x60000u);
  EXPECT_EQ(m.peak_reserved_event, 6u);
  EXPECT_EQ(m.min_largest_free_block, 0xA0000u);
  EXPECT_EQ(m.min_largest_free_block_event, 6u);
}

TEST(MetricsTest, FragmentationOnHandComputedLayout) {
  AddressSpace space(Small());
  EXPECT_EQ(space.metrics().total_free, 0x100000u);
  EXPECT_DOUBLE_EQ(space.metrics().fragmentation(), 0.0);
  // Four 0x40000 reservations fill the space: nothing free, fragmentation 0 by definition.
  uint64_t r[4];
  for (uint64_t& x : r) x = space.VirtualAlloc(0, 0x40000, kMemReserve, kPageReadWrite).address;
  EXPECT_EQ(space.metrics().total_free, 0u);
  EXPECT_DOUBLE_EQ(space.metrics().fragmentation(), 0.0);
  // Free the 1st and 3rd: two 0x40000 holes -> 1 - 0x40000 / 0x80000 = 0.5.
  space.VirtualFree(r[0], 0, kMemRelease);
  space.VirtualFree(r[2], 0, kMemRelease);
  EXPECT_EQ(space.metrics().total_free, 0x80000u);
  EXPECT_EQ(space.metrics().largest_free_block, 0x40000u);
  EXPECT_DOUBLE_EQ(space.metrics().fragmentation(), 0.5);
  // Put a 0x10000 reservation in the middle of the first hole: holes 0x10000, 0x20000, 0x40000.
  space.VirtualAlloc(r[0] + 0x10000, 0x10000, kMemReserve, kPageReadWrite);
  EXPECT_EQ(space.metrics().total_free, 0x70000u);
  EXPECT_EQ(space.metrics().largest_free_block, 0x40000u);
  EXPECT_DOUBLE_EQ(space.metrics().fragmentation(), 1.0 - 4.0 / 7.0);
  EXPECT_EQ(space.metrics().region_count, 3u);
  // A failed reservation is recorded with its size.
  EXPECT_EQ(space.VirtualAlloc(0, 0x50000, kMemReserve, kPageReadWrite).error,
            kErrorNotEnoughMemory);
  EXPECT_EQ(space.metrics().failed_reservations, 1u);
  EXPECT_EQ(space.metrics().largest_failed_reservation, 0x50000u);
  EXPECT_EQ(space.metrics().largest_requested_reservation, 0x50000u);
  EXPECT_EQ(space.CheckInvariants(), "");
}

TEST(CommitTimelineTest, KeepsEveryPeakInBoundedMemory) {
  CommitTimeline timeline(/*max_samples=*/4);
  for (uint64_t e = 0; e < 4; ++e) timeline.Record(e, e * 10);
  EXPECT_EQ(timeline.samples().size(), 4u);
  EXPECT_EQ(timeline.stride(), 1u);
  timeline.Record(4, 5);  // Compacts to stride 2: [0,1] [2,3] [4].
  EXPECT_EQ(timeline.stride(), 2u);
  ASSERT_EQ(timeline.samples().size(), 3u);
  EXPECT_EQ(timeline.samples()[0].max_value, 10u);
  EXPECT_EQ(timeline.samples()[1].max_value, 30u);
  EXPECT_EQ(timeline.samples()[1].last_value, 30u);
  EXPECT_EQ(timeline.samples()[2].first_event, 4u);
  EXPECT_EQ(timeline.samples()[2].max_value, 5u);
  for (uint64_t e = 5; e < 1000; ++e) timeline.Record(e, e == 500 ? 99999 : 1);
  EXPECT_LE(timeline.samples().size(), 4u);
  uint64_t max = 0;
  for (const auto& s : timeline.samples()) max = std::max(max, s.max_value);
  EXPECT_EQ(max, 99999u);
}

}  // namespace
}  // namespace vmreplay::sim
