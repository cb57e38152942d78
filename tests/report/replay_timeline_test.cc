// ReplayTimeline: bounded samples, peaks kept through downsampling.
#include "replayer/metrics/replay_timeline.h"

#include <gtest/gtest.h>

namespace vmreplay::replay {
namespace {

TEST(ReplayTimelineTest, BoundedAndKeepsPeak) {
  ReplayTimeline t(100);
  for (uint64_t i = 0; i < 100000; ++i) {
    t.Record(i, i * 10, i == 54321 ? 1000000 : i % 1000, 0.5);
  }
  EXPECT_LE(t.samples().size(), 100u);
  uint64_t peak = 0;
  for (const auto& s : t.samples()) peak = std::max(peak, s.commit_max);
  EXPECT_EQ(peak, 1000000u);
  // Buckets are ordered and start on multiples of the stride.
  for (size_t i = 1; i < t.samples().size(); ++i) {
    EXPECT_GT(t.samples()[i].first_event, t.samples()[i - 1].first_event);
    EXPECT_EQ(t.samples()[i].first_event % t.stride(), 0u);
  }
}

TEST(ReplayTimelineTest, ReservedCarriesAndPeakIsNoted) {
  ReplayTimeline t(8);
  t.RecordReserved(4096);
  for (uint64_t i = 0; i < 20; ++i) t.Record(i, 0, 0, std::nullopt);
  EXPECT_EQ(t.samples().back().reserved_last, 4096u);
  EXPECT_LT(t.samples().back().fragmentation_max, 0);  // unknown
  t.NotePeakReserved(7, 1 << 20);
  uint64_t peak = 0;
  for (const auto& s : t.samples()) peak = std::max(peak, s.reserved_max);
  EXPECT_EQ(peak, 1u << 20);
}

}  // namespace
}  // namespace vmreplay::replay
