// The bundled real CLR recordings (traces/clr/README.md), lifted, checked against the runtime's
// own GC figures their workloads printed, and replayed on every backend. Needs no dotnet.
#include <gtest/gtest.h>

#include <string>

#include "proto/event_source.h"
#include "replayer/engine/replay_engine.h"
#include "replayer/lift/clr_lift.h"
#include "replayer/lift/gc_commit_oracle.h"
#include "tests/lift/lift_test_util.h"

namespace vmreplay::lift {
namespace {

class ClrCorpusTest : public ::testing::TestWithParam<const char*> {};

std::string CorpusPath(const std::string& name, const char* ext) {
  return std::string(VMREPLAY_SOURCE_DIR) + "/traces/clr/" + name + ext;
}

bool ReadHeader(const std::string& path, proto::Header* header) {
  std::unique_ptr<EventSource> source;
  if (!OpenTrace(path, &source).ok()) return false;
  *header = source->header();
  return true;
}

replay::ReplayMetrics Replay(const std::string& path, const std::string& backend) {
  replay::ReplayOptions options;
  EXPECT_TRUE(replay::BackendCell(backend, &options.manager, &options.platform).ok());
  replay::ReplayMetrics m;
  const Status s = replay::ReplayTrace(path, options, &m);
  EXPECT_TRUE(s.ok()) << backend << ": " << s.message();
  return m;
}

TEST_P(ClrCorpusTest, LiftsAgreesWithTheRuntimeAndReplays) {
  const std::string name = GetParam();
  const std::string lifted = testing::TempPath(name + ".lifted.pb");
  LiftResult r;
  const Status s = LiftClrTrace(CorpusPath(name, ".pb"), lifted, WriterOptions(), &r);
  ASSERT_TRUE(s.ok()) << s.message();

  // Every call accounted for. Recorded with the system-call tracer (format 1.3), ld.so's own
  // mapping of libcoreclr.so is in the trace, so nothing is left unclassified; the older
  // recordings leave the runtime's protection changes on those pages as unknown memory.
  EXPECT_EQ(testing::CountedEvents(r.stats), r.stats.events_in());
  proto::Header header;
  ASSERT_TRUE(ReadHeader(CorpusPath(name, ".pb"), &header));
  const auto tracer = header.metadata().find("syscall_tracer");
  if (tracer != header.metadata().end() && tracer->second == "on") {
    EXPECT_EQ(r.stats.unclassified_total(), 0u) << r.stats.FormatTable();
    EXPECT_GT(r.stats.not_lifted(NotLifted::kSystemMapping), 0u);
  } else {
    EXPECT_EQ(r.stats.unclassified_total(), r.stats.unclassified(Unclassified::kUnknownMemory));
    EXPECT_LE(r.stats.unclassified_total(), 8u) << r.stats.FormatTable();
  }
  EXPECT_GE(r.stats.lifted(Lifted::kGcHeapReserve), 1u);
  EXPECT_EQ(r.pools.size(), 1u);

  std::vector<OracleCheckpoint> checkpoints;
  ASSERT_TRUE(ParseOracleOutput(CorpusPath(name, ".out"), &checkpoints).ok());
  std::vector<OracleComparison> comparisons;
  ASSERT_TRUE(CompareWithLiftedTrace(lifted, checkpoints, &comparisons).ok());
  for (const OracleComparison& c : comparisons) {
    EXPECT_TRUE(c.agrees()) << FormatComparisons(comparisons);
  }

  const replay::ReplayMetrics sim = Replay(lifted, "sim");
  EXPECT_EQ(sim.divergences, 0u);
  EXPECT_EQ(sim.untranslatable, 0u);
  EXPECT_EQ(sim.skipped_dependent, 0u);
  EXPECT_EQ(sim.vm.placement_fallbacks, 0u);
  EXPECT_EQ(Replay(lifted, "os").divergences, 0u);
  const replay::ReplayMetrics arena = Replay(lifted, "arena");
  if (r.largest.size <= (uint64_t{64} << 30)) {
    EXPECT_EQ(arena.divergences, 0u);
  } else {
    // The server GC's 256 GiB regions range does not fit the default 64 GiB arena: the one
    // refused reservation, and the lift says why.
    EXPECT_EQ(arena.divergences, 1u);
    EXPECT_NE(LargestReservationNote(r.largest).find("256.00 GiB (the GC heap's"),
              std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Bundled, ClrCorpusTest,
                         ::testing::Values("ws-regions-requests", "ws-regions-batch",
                                           "ws-regions-pinned", "server-requests",
                                           "segments-pinned", "hard-limit-pinned",
                                           "conserve-pinned"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

}  // namespace
}  // namespace vmreplay::lift
