#include "simulator/memory_pressure.h"

#include <gtest/gtest.h>

#include <vector>

namespace vmreplay::sim {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

MemoryPressureConfig TenGiB() {
  MemoryPressureConfig config;
  config.physical_memory = 10 * kGiB;
  config.background_load_bytes = 1 * kGiB;
  return config;  // Low >= 90%, back to neutral < 85%, high <= 40%, back to neutral > 50%.
}

TEST(MemoryPressureTest, GetMemoryLoad) {
  MemoryPressureModel model(TenGiB());
  EXPECT_EQ(model.GetMemoryLoad(0), (MemoryLoad{10, 9 * kGiB}));
  EXPECT_EQ(model.GetMemoryLoad(4 * kGiB - 1), (MemoryLoad{49, 5 * kGiB + 1}));
  EXPECT_EQ(model.GetMemoryLoad(4 * kGiB), (MemoryLoad{50, 5 * kGiB}));
  EXPECT_EQ(model.GetMemoryLoad(9 * kGiB), (MemoryLoad{100, 0}));
  EXPECT_EQ(model.GetMemoryLoad(50 * kGiB), (MemoryLoad{100, 0}));
  EXPECT_EQ(model.GetMemoryLoad(UINT64_MAX), (MemoryLoad{100, 0}));
}

TEST(MemoryPressureTest, NotificationsWithHysteresis) {
  MemoryPressureModel model(TenGiB());
  EXPECT_EQ(model.state(), MemoryAvailable::kNeutral);
  // 10% load: High.
  auto n = model.Update(0, 1);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, (MemoryNotification{MemoryAvailable::kHigh, 1, 10}));
  // 45%: still High (exit only above 50%).
  EXPECT_FALSE(model.Update(3.5 * kGiB, 2).has_value());
  EXPECT_FALSE(model.Update(4 * kGiB, 3).has_value());  // Exactly 50%: not above.
  n = model.Update(4.2 * kGiB, 4);                      // 52%.
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->level, MemoryAvailable::kNeutral);
  EXPECT_FALSE(model.Update(7.9 * kGiB, 5).has_value());  // 89%.
  n = model.Update(8 * kGiB, 6);                          // 90%: Low.
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, (MemoryNotification{MemoryAvailable::kLow, 6, 90}));
  // Oscillating between 86% and 95%: no storm.
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(model.Update((i % 2 ? 7.65 : 8.5) * kGiB, 7 + i).has_value());
  }
  n = model.Update(7.4 * kGiB, 20);  // 84%: back to Neutral.
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->level, MemoryAvailable::kNeutral);
  EXPECT_EQ(n->event_index, 20u);
  // Jump straight from Neutral to Low, then straight to High: one notification each.
  EXPECT_EQ(model.Update(9 * kGiB, 21)->level, MemoryAvailable::kLow);
  EXPECT_EQ(model.Update(0, 22)->level, MemoryAvailable::kHigh);
  EXPECT_EQ(model.Update(9 * kGiB, 23)->level, MemoryAvailable::kLow);
  EXPECT_EQ(model.low_count(), 3u);
  EXPECT_EQ(model.neutral_count(), 2u);
  EXPECT_EQ(model.high_count(), 2u);
}

TEST(MemoryPressureTest, ConfigValidation) {
  EXPECT_EQ(MemoryPressureConfig{}.Validate(), "");
  MemoryPressureConfig c;
  c.low_exit_percent = 95;  // Above low_enter.
  EXPECT_NE(c.Validate(), "");
  c = MemoryPressureConfig{};
  c.physical_memory = 0;
  EXPECT_NE(c.Validate(), "");
  c = MemoryPressureConfig{};
  c.high_exit_percent = 30;  // Below high_enter.
  EXPECT_NE(c.Validate(), "");
}

}  // namespace
}  // namespace vmreplay::sim
