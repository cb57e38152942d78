// The replay CLI end to end: exit codes, JSON keys, CSV, bad traces.
#include <gtest/gtest.h>

#include <string>

#include "tests/replayer/replay_test_util.h"
#include "tests/support/cli_runner.h"

namespace vmreplay::replay {
namespace {

::vmreplay::testing::CliResult RunCli(const std::string& args) {
  return ::vmreplay::testing::RunVmreplay(args);
}

const std::string kDiverging =
    std::string(testing::kWindowsHeader) +
    "VirtualAlloc thread=1 ts=0 lat=0 addr=0x0 size=65536 flags=0x2000 protect=0x4 level=0 -> "
    "result=0x0 hresult=0x0 error=8\n";
const std::string kClean =
    std::string(testing::kWindowsHeader) +
    "VirtualAlloc thread=1 ts=0 lat=0 addr=0x0 size=65536 flags=0x2000 protect=0x4 level=0 -> "
    "result=0x10000000 hresult=0x0 error=0\n";

TEST(ReplayCommandTest, CheckExitCode) {
  const std::string bad = testing::WriteTrace(kDiverging);
  const std::string good = testing::WriteTrace(kClean);
  EXPECT_EQ(RunCli(bad + " --backend=sim --check").code, 1);
  EXPECT_EQ(RunCli(bad + " --backend=sim").code, 0);
  EXPECT_EQ(RunCli(good + " --backend=sim --backend=arena --check").code, 0);
}

TEST(ReplayCommandTest, JsonHasSchemaAndKeys) {
  const auto r = RunCli(testing::WriteTrace(kClean) + " --backend=sim --backend=os --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("{\"schema\":\"vmreplay.replay/2\"", 0), 0u) << r.out;
  for (const char* key : {"\"runs\":[", "\"backend\":\"passthrough/sim\"",
                          "\"backend\":\"passthrough/os\"", "\"manager\":\"passthrough\"",
                          "\"platform\":\"os\"", "\"platform_calls\":{\"VirtualAlloc reserve\":1",
                          "\"peak_commit_bytes\":", "\"peak_reserve_bytes\":65536",
                          "\"divergences\":0", "\"latency_ns\":{\"VirtualAlloc\":{\"count\":1",
                          "\"events_per_second\":", "\"syscalls\":{\"mmap\":"}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key << "\n" << r.out;
  }
  // Balanced braces: a cheap well-formedness check.
  int depth = 0;
  for (char c : r.out) depth += c == '{' ? 1 : c == '}' ? -1 : 0;
  EXPECT_EQ(depth, 0);
}

TEST(ReplayCommandTest, CsvAndTable) {
  const std::string t = testing::WriteTrace(kClean);
  const auto csv = RunCli(t + " --backend=sim --csv");
  EXPECT_EQ(csv.out.rfind("manager,platform,heap,events,", 0), 0u) << csv.out;
  EXPECT_NE(csv.out.find("\npassthrough,sim,system,1,"), std::string::npos) << csv.out;
  // A manager label with knobs holds commas: quoted.
  const auto knobs = RunCli(t + " --manager=arena:size=1G,placement=best-fit --csv");
  EXPECT_NE(knobs.out.find("\n\"arena:size=1G,placement=best-fit\",sim,system,"), std::string::npos)
      << knobs.out;
  const auto table = RunCli("replay " + t + " --backend=sim --backend=arena");
  EXPECT_NE(table.out.find("passthrough"), std::string::npos);
  EXPECT_NE(table.out.find("sim/system"), std::string::npos);
  EXPECT_NE(table.out.find("arena"), std::string::npos);
  EXPECT_NE(table.out.find("os/system"), std::string::npos) << "--backend=arena is arena on os";
  EXPECT_NE(table.out.find("peak commit"), std::string::npos);
}

TEST(ReplayCommandTest, BadTraceOneLineErrorExit1) {
  const auto r = RunCli(testing::WriteTrace("garbage\n") + " --backend=sim");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out.rfind("vmreplay: ", 0), 0u) << r.out;
  const auto missing = RunCli("/nonexistent/trace.pb --backend=sim");
  EXPECT_EQ(missing.code, 1);
}

TEST(ReplayCommandTest, SingleAndThreadedSideBySide) {
  const std::string t = testing::WriteTrace(kClean);
  const auto r = RunCli(t + " --backend=sim --threads=single --threads=replay --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const size_t single = r.out.find("\"threads\":{\"mode\":\"single\"");
  const size_t threaded =
      r.out.find("\"threads\":{\"mode\":\"replay\",\"recorded\":1,\"replay\":1,");
  ASSERT_NE(single, std::string::npos) << r.out;
  ASSERT_NE(threaded, std::string::npos) << r.out;
  EXPECT_LT(single, threaded);  // runs in the order asked
  const auto table = RunCli(t + " --backend=sim --threads=single --threads=replay");
  EXPECT_NE(table.out.find("sim/system+threads"), std::string::npos) << table.out;
  const auto bad = RunCli(t + " --threads=many");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("--threads: 'many' is not one of: single, replay"), std::string::npos)
      << bad.out;
}

TEST(ReplayCommandTest, ReadAheadChoices) {
  const std::string trace = testing::SourceDir() + "/traces/synth/server-gc.pb";
  const auto off = RunCli(trace + " --backend=sim --read-ahead=off --csv");
  const auto on = RunCli(trace + " --backend=sim --read-ahead=on --csv");
  ASSERT_EQ(off.code, 0) << off.out;
  ASSERT_EQ(on.code, 0) << on.out;
  // The same run either way, up to the timings (the columns after divergences).
  auto deterministic = [](const std::string& csv) {
    const std::string row = csv.substr(csv.find('\n') + 1);
    size_t comma = 0;
    for (int i = 0; i < 8 && comma != std::string::npos; ++i) comma = row.find(',', comma + 1);
    return row.substr(0, comma);
  };
  EXPECT_EQ(deterministic(on.out), deterministic(off.out));
  const auto bad = RunCli(trace + " --read-ahead=maybe");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("--read-ahead: 'maybe' is not one of: auto, on, off"), std::string::npos)
      << bad.out;
}

TEST(ReplayCommandTest, BackendsListed) {
  const auto r = RunCli("backends");
  EXPECT_EQ(r.code, 0);
  for (const char* name : {"sim", "os", "passthrough", "arena", "decommit-cache", "large-pages",
                           "budget", "plugin", "system", "boost"}) {
    EXPECT_NE(r.out.find(std::string("  ") + name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace vmreplay::replay
