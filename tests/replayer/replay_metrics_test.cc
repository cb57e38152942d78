#include "replayer/metrics/replay_metrics.h"

#include <gtest/gtest.h>

namespace vmreplay::replay {
namespace {

TEST(ReplayMetricsTest, HeapFragmentationFromFootprintAndLive) {
  ReplayMetrics m;
  m.peak_live_bytes = 750;
  m.footprint_at_live_peak = 1000;
  m.peak_footprint = 1500;
  ASSERT_TRUE(m.heap_fragmentation_at_peak().has_value());
  EXPECT_DOUBLE_EQ(*m.heap_fragmentation_at_peak(), 0.25);
  ASSERT_TRUE(m.johnstone_wilson_4().has_value());
  EXPECT_DOUBLE_EQ(*m.johnstone_wilson_4(), 1.0);
}

TEST(ReplayMetricsTest, AFootprintBelowLiveBytesIsNotAMeasurement) {
  ReplayMetrics m;
  m.peak_live_bytes = 1000;
  m.footprint_at_live_peak = 400;
  m.peak_footprint = 600;
  EXPECT_FALSE(m.heap_fragmentation_at_peak().has_value());
  EXPECT_FALSE(m.johnstone_wilson_4().has_value());
  m.footprint_at_live_peak.reset();
  m.peak_footprint.reset();
  EXPECT_FALSE(m.heap_fragmentation_at_peak().has_value());
  EXPECT_FALSE(m.johnstone_wilson_4().has_value());
}

}  // namespace
}  // namespace vmreplay::replay
