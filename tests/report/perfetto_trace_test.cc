// `vmreplay TRACE --perfetto=out.json`: valid trace-event JSON with one process per run, counter
// events within the timeline bound, and one instant per notification.
#include <gtest/gtest.h>

#include <map>

#include "replayer/metrics/replay_timeline.h"
#include "replayer/report/json_value.h"
#include "tests/gate/cli_test_util.h"

namespace vmreplay::testing {
namespace {

TEST(PerfettoTraceTest, ValidJsonWithCountersAndInstants) {
  const std::string dir = TempDir();
  const std::string path = dir + "/trace.json";
  const CliResult r = RunVmreplay(
      "traces/synth/pressure.pb --backend sim --backend arena "
      "--json --perfetto " +
      path + " > " + dir + "/replay.json");
  ASSERT_EQ(r.code, 0) << r.out;
  json::Value doc;
  const Status s = json::ParseFile(path, &doc);
  ASSERT_TRUE(s.ok()) << s.message();
  const json::Value* events = doc.Find("traceEvents");
  ASSERT_TRUE(events != nullptr && events->is_array());
  std::map<std::string, size_t> by_phase;
  std::map<std::string, size_t> counters;
  size_t instants = 0;
  for (const json::Value& e : events->array()) {
    const json::Value* ph = e.Find("ph");
    ASSERT_TRUE(ph != nullptr && ph->is_string());
    ASSERT_TRUE(e.Find("pid") != nullptr);
    ++by_phase[ph->string()];
    if (ph->string() == "M") continue;
    ASSERT_TRUE(e.Find("ts") != nullptr && e.Find("ts")->is_number());
    if (ph->string() == "C") ++counters[e.Find("name")->string()];
    if (ph->string() == "i") ++instants;
  }
  EXPECT_EQ(by_phase["M"], 2u);  // one process per run
  // Commit and reservation per bucket, per run, within the timeline's bound.
  EXPECT_GT(counters["committed"], 2u * 100);
  EXPECT_LE(counters["committed"], 2u * replay::ReplayTimeline::kDefaultMaxSamples);
  EXPECT_EQ(counters["reserved"], counters["committed"]);
  // One instant per notification: recorded ones plus those the pressure model produced.
  json::Value replay;
  ASSERT_TRUE(json::ParseFile(dir + "/replay.json", &replay).ok());
  size_t expected = 0;
  for (const json::Value& run : replay.Find("runs")->array()) {
    expected += static_cast<size_t>(run.Find("recorded_notifications")->number());
    for (const auto& [level, n] : run.Find("notifications")->members()) {
      expected += static_cast<size_t>(n.number());
    }
  }
  EXPECT_GT(expected, 0u);
  EXPECT_EQ(instants, expected);
}

}  // namespace
}  // namespace vmreplay::testing
