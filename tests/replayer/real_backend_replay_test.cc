// Real backends (os, arena) against the Wine oracle trace, and every bundled synthetic / Windows
// trace on the layout-faithful simulator.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "replayer/engine/replay_engine.h"
#include "tests/replayer/replay_test_util.h"

namespace vmreplay::replay {
namespace {

using testing::kWindowsHeader;
using testing::SourceDir;
using testing::WriteTrace;

ReplayMetrics ReplayOn(const std::string& path, const std::string& backend) {
  ReplayOptions o;
  testing::SetBackend(&o, backend);
  o.max_divergences_kept = 1000;
  ReplayMetrics m;
  const Status s = ReplayTrace(path, o, &m);
  EXPECT_TRUE(s.ok()) << s.message();
  return m;
}

// Regression: a reservation at an unaligned explicit address spans [granularity-aligned result,
// PageUp(addr + size)); relocated on a real backend it used to be only PageUp(size) long, so
// later calls inside the recorded range failed with ERROR_INVALID_ADDRESS.
TEST(RealBackendReplayTest, RelocatedUnalignedReservationCoversRecordedRange) {
  const std::string text =
      std::string(kWindowsHeader) +
      "VirtualAlloc thread=1 ts=0 lat=0 addr=0x42638469 size=13546 flags=0x2000 protect=0x1 "
      "level=0 -> result=0x42630000 hresult=0x0 error=0\n"
      "VirtualAlloc thread=1 ts=1 lat=0 addr=0x4263b000 size=4096 flags=0x1000 protect=0x4 "
      "level=0 -> result=0x4263b000 hresult=0x0 error=0\n"
      "VirtualFree thread=1 ts=2 lat=0 addr=0x4263b000 size=192 flags=0x4000 -> hresult=0x0 "
      "error=0\n"
      // MEM_COMMIT alone at NULL reserves too; a commit inside it must translate.
      "VirtualAlloc thread=1 ts=3 lat=0 addr=0x0 size=36864 flags=0x1000 protect=0x4 level=0 "
      "-> result=0x1350000 hresult=0x0 error=0\n"
      "VirtualAlloc thread=1 ts=4 lat=0 addr=0x1353000 size=8192 flags=0x1000 protect=0x4 "
      "level=0 -> result=0x1353000 hresult=0x0 error=0\n";
  const std::string path = WriteTrace(text);
  for (const char* backend : {"os", "arena"}) {
    const ReplayMetrics m = ReplayOn(path, backend);
    EXPECT_EQ(m.divergences, 0u) << backend << ": "
                                 << (m.first_divergences.empty() ? ""
                                                                 : m.first_divergences[0].what);
    EXPECT_EQ(m.untranslatable, 0u) << backend;
  }
}

// os and arena compare success / failure only; every call inside a translated reservation
// replays, calls on memory no translated range covers are counted as untranslatable. On this
// trace they diverge nowhere (sim's divergences are Wine's error-code and VirtualQuery
// deviations, which success-only comparison does not see).
TEST(RealBackendReplayTest, WineTraceRealBackendsDivergeNoMoreThanSim) {
  const std::string path = SourceDir() + "/traces/wine/random_seed1.pb";
  const ReplayMetrics sim = ReplayOn(path, "sim");
  for (const char* backend : {"os", "arena"}) {
    const ReplayMetrics m = ReplayOn(path, backend);
    EXPECT_EQ(m.events, sim.events);
    EXPECT_LE(m.divergences, sim.divergences) << backend;
    EXPECT_EQ(m.divergences, 0u) << backend << ": "
                                 << (m.first_divergences.empty() ? ""
                                                                 : m.first_divergences[0].what);
  }
}

// The bundled synthetic traces were generated with the simulator and the Windows trace was
// checked against it: layout-faithful replay must reproduce every call exactly.
TEST(RealBackendReplayTest, BundledTracesReplayExactlyOnSim) {
  int traces = 0;
  for (const char* dir : {"/traces/synth", "/traces/windows"}) {
    for (const auto& entry : std::filesystem::directory_iterator(SourceDir() + dir)) {
      if (entry.path().extension() != ".pb") continue;
      ++traces;
      const ReplayMetrics m = ReplayOn(entry.path().string(), "sim");
      EXPECT_GT(m.events, 0u) << entry.path();
      EXPECT_EQ(m.divergences, 0u)
          << entry.path() << ": "
          << (m.first_divergences.empty() ? "" : m.first_divergences[0].what);
    }
  }
  EXPECT_GE(traces, 4);
}

}  // namespace
}  // namespace vmreplay::replay
