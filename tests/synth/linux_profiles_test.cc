// The linux-* profiles: the shape a lifted .NET recording has, and the fit to the bundled real
// recordings they were derived from (traces/synth/README.md states the distances).
#include <algorithm>
#include <cstdio>

#include "gtest/gtest.h"
#include "replayer/lift/clr_lift.h"
#include "simulator/win32_constants.h"
#include "tests/synth/synth_trace_util.h"
#include "traces/synth/trace_figures.h"

namespace vmreplay::synth {
namespace {

SynthOptions Linux(Profile p, uint64_t seed) {
  SynthOptions o;
  o.profile = p;
  o.seed = seed;
  o.duration_s = 7;  // the real recordings' length
  o.threads = 2;
  return o;
}

TEST(LinuxProfilesTest, RegionsRangeUpFrontNoLoadQueriesNoDebugAlloc) {
  for (Profile p : {Profile::kLinuxWorkstation, Profile::kLinuxServer}) {
    SCOPED_TRACE(std::string(ProfileName(p)));
    SynthOptions o = Linux(p, 1);
    o.duration_s = 1;
    const std::string path = Generate(o, "linux_shape");
    const ReadTrace t = Read(path);
    const auto first_reserve = std::find_if(t.events.begin(), t.events.end(), [](const Event& e) {
      return e.op == Op::kVirtualAlloc && (e.flags & win32::kMemReserve) != 0;
    });
    ASSERT_NE(first_reserve, t.events.end());
    // gc/interface.cpp: min (workstation) or max (server) of 256 GiB and 2 x RAM.
    const uint64_t two_ram = 2 * t.header.physical_memory();
    EXPECT_EQ(first_reserve->size, p == Profile::kLinuxServer
                                       ? std::max<uint64_t>(256ull << 30, two_ram)
                                       : std::min<uint64_t>(256ull << 30, two_ram));
    for (const Event& e : t.events) {
      EXPECT_NE(e.op, Op::kGetMemoryLoad);
      EXPECT_NE(e.op, Op::kHostDebugAlloc);
      EXPECT_NE(e.op, Op::kVirtualProtect);
    }
    std::remove(path.c_str());
  }
}

// Each figure within the stated distance (|log2(synthetic / real)|) of the real recording's.
TEST(LinuxProfilesTest, FiguresWithinTheStatedDistanceOfTheRealRecordings) {
  struct Fit {
    Profile profile;
    const char* real;
    double bound;
    Figure excused;  // a figure held to `excused_bound` instead
    double excused_bound;
  };
  for (const Fit& f :
       {Fit{Profile::kLinuxWorkstation, "ws-regions-requests", 0.5, Figure::kCount, 0},
        Fit{Profile::kLinuxServer, "server-requests", 0.5, Figure::k_decommitted_share, 1.0}}) {
    SCOPED_TRACE(std::string(ProfileName(f.profile)));
    const std::string lifted = TempPath(std::string("lifted_") + f.real);
    lift::LiftResult r;
    ASSERT_TRUE(
        lift::LiftClrTrace(std::string(VMREPLAY_SOURCE_DIR) + "/traces/clr/" + f.real + ".pb",
                           lifted, WriterOptions(), &r)
            .ok());
    TraceFigures real;
    ASSERT_TRUE(MeasureTrace(lifted, &real).ok());
    for (uint64_t seed : {1, 2, 3}) {
      const std::string path = Generate(Linux(f.profile, seed), "linux_fit");
      TraceFigures synthetic;
      ASSERT_TRUE(MeasureTrace(path, &synthetic).ok());
      for (size_t i = 0; i < kFigureCount; ++i) {
        const double bound = static_cast<Figure>(i) == f.excused ? f.excused_bound : f.bound;
        EXPECT_LE(FigureDistance(real[i], synthetic[i]), bound)
            << kFigureInfo[i].name << " seed " << seed << "\n"
            << FormatFigureTable({"real", "synthetic"}, {real, synthetic}, 0);
      }
      std::remove(path.c_str());
    }
    std::remove(lifted.c_str());
  }
}

}  // namespace
}  // namespace vmreplay::synth
