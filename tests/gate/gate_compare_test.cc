// gate::Compare and the baseline file: tolerances, directions, round trip.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "replayer/gate/baseline.h"
#include "replayer/gate/gate.h"
#include "replayer/report/json_value.h"

namespace vmreplay::gate {
namespace {

Baseline OneEntry(double peak, double eps_ratio) {
  Baseline b;
  b.tolerances = DefaultTolerances();
  b.entries.push_back(
      {"t.pb", "arena", {{"peak_commit_bytes", peak}, {"events_per_second_ratio", eps_ratio}}});
  return b;
}

TEST(GateCompareTest, ExactFigureHigherIsRegression) {
  const GateResult r =
      Compare(OneEntry(100, 1.0),
              {{"t.pb", "arena", {{"peak_commit_bytes", 101}, {"events_per_second_ratio", 1.0}}}});
  EXPECT_EQ(r.regressions, 1u);
  EXPECT_EQ(r.rows[0].verdict, Verdict::kRegressed);
}

TEST(GateCompareTest, TimingRatioWithinWideTolerancePasses) {
  // 60 % down allowed: 0.5 is -50 %.
  const GateResult ok =
      Compare(OneEntry(100, 1.0),
              {{"t.pb", "arena", {{"peak_commit_bytes", 100}, {"events_per_second_ratio", 0.5}}}});
  EXPECT_EQ(ok.regressions, 0u);
  const GateResult bad =
      Compare(OneEntry(100, 1.0),
              {{"t.pb", "arena", {{"peak_commit_bytes", 100}, {"events_per_second_ratio", 0.3}}}});
  EXPECT_EQ(bad.regressions, 1u);
  const GateResult faster =
      Compare(OneEntry(100, 1.0),
              {{"t.pb", "arena", {{"peak_commit_bytes", 100}, {"events_per_second_ratio", 3.0}}}});
  EXPECT_EQ(faster.regressions, 0u);
  EXPECT_EQ(faster.improved, 1u);
}

TEST(GateCompareTest, ToleranceFallsBackToFamily) {
  const Baseline b = OneEntry(1, 1);
  EXPECT_EQ(b.ToleranceOf("p50_ratio.VirtualAlloc").percent, 150);
  EXPECT_EQ(b.ToleranceOf("unknown_figure").percent, 0);
}

TEST(GateCompareTest, UnknownEntryIsReported) {
  const GateResult r = Compare(OneEntry(1, 1), {{"other.pb", "arena", {}}});
  ASSERT_EQ(r.unknown.size(), 1u);
}

TEST(GateCompareTest, BaselineRoundTrips) {
  const Baseline b = OneEntry(123456789012, 0.75);
  std::ostringstream out;
  WriteBaseline(b, out);
  const std::string path = ::testing::TempDir() + "/baseline_roundtrip.json";
  ASSERT_TRUE(std::ofstream(path) << out.str());
  Baseline back;
  const Status s = LoadBaseline(path, &back);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(back.entries.size(), 1u);
  EXPECT_EQ(back.entries[0].metrics[0].second, 123456789012.0);
  EXPECT_EQ(back.entries[0].metrics[1].second, 0.75);
  EXPECT_EQ(Compare(back, b.entries).regressions, 0u);
}

}  // namespace
}  // namespace vmreplay::gate
