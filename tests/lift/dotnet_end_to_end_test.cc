// Record, lift, compare, on this machine's .NET: builds the batch workload with the SDK
// (offline), runs it plain and under vmrecord, and checks that the recording changed neither its
// output nor its exit code, that the lifted trace agrees with the GC's TotalCommittedBytes at
// every checkpoint, and that it replays on sim without divergence. Skipped, with the reason,
// where dotnet is not installed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "replayer/engine/replay_engine.h"
#include "replayer/lift/clr_lift.h"
#include "replayer/lift/gc_commit_oracle.h"
#include "tests/lift/lift_test_util.h"

namespace vmreplay::lift {
namespace {

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Exit code of `command` run by the shell.
int Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string WithoutOracleLines(const std::string& path) {
  std::ifstream in(path);
  std::string kept;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("vmreplay-", 0) != 0) kept += line + "\n";
  }
  return kept;
}

class DotnetEndToEndTest : public ::testing::TestWithParam<const char*> {
 protected:
  static void SetUpTestSuite() {
    dotnet_ = FindInPath("dotnet");
    if (dotnet_.empty()) return;
    artifacts_ = testing::TempPath("artifacts");
    build_status_ = Shell("nice -n 15 " + dotnet_ + " build " + VMREPLAY_SOURCE_DIR +
                          "/traces/clr/workloads/batch -c Release -nologo -v quiet "
                          "--artifacts-path " +
                          artifacts_ + " > " + artifacts_ + ".log 2>&1");
  }
  static std::string dotnet_;
  static std::string artifacts_;
  static int build_status_;
};
std::string DotnetEndToEndTest::dotnet_;
std::string DotnetEndToEndTest::artifacts_;
int DotnetEndToEndTest::build_status_ = -1;

TEST_P(DotnetEndToEndTest, RecordLiftAgreeReplay) {
  if (dotnet_.empty()) GTEST_SKIP() << "dotnet is not installed: the .NET SDK builds the workload";
  ASSERT_EQ(build_status_, 0) << "dotnet build failed, see " << artifacts_ << ".log";
  const std::string env = GetParam();
  const std::string app = dotnet_ + " " + artifacts_ + "/bin/batch/release/batch.dll 1 37";
  const std::string dir = testing::TempPath(std::string("e2e") + (env[0] ? "_env" : ""));
  ASSERT_EQ(Shell("mkdir -p " + dir), 0);

  // The exit code (37, asked for) and the output are the program's, recorded or not.
  ASSERT_EQ(Shell(env + " " + app + " > " + dir + "/plain.out"), 37);
  const std::string vmrecord = std::string(VMREPLAY_BINARY_DIR) + "/recorder/linux/vmrecord";
  ASSERT_EQ(Shell(env + " " + vmrecord + " -o " + dir + "/app.pb -- " + app + " > " + dir +
                  "/recorded.out 2> " + dir + "/vmrecord.err"),
            37);
  EXPECT_EQ(WithoutOracleLines(dir + "/plain.out"), WithoutOracleLines(dir + "/recorded.out"));

  LiftResult r;
  const Status s = LiftClrTrace(dir + "/app.pb", dir + "/app.lifted.pb", WriterOptions(), &r);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(r.stats.unclassified_total(), r.stats.unclassified(Unclassified::kUnknownMemory))
      << r.stats.FormatTable();

  std::vector<OracleCheckpoint> checkpoints;
  ASSERT_TRUE(ParseOracleOutput(dir + "/recorded.out", &checkpoints).ok());
  std::vector<OracleComparison> comparisons;
  ASSERT_TRUE(CompareWithLiftedTrace(dir + "/app.lifted.pb", checkpoints, &comparisons).ok());
  ASSERT_EQ(comparisons.size(), 4u);  // start, arrays, linq, chunks
  for (const OracleComparison& c : comparisons) {
    EXPECT_TRUE(c.agrees()) << FormatComparisons(comparisons);
  }

  replay::ReplayOptions options;
  replay::ReplayMetrics m;
  ASSERT_TRUE(replay::ReplayTrace(dir + "/app.lifted.pb", options, &m).ok());
  EXPECT_EQ(m.divergences, 0u);
  EXPECT_EQ(m.vm.placement_fallbacks, 0u);
}

// The regions GC of libcoreclr, and the segments GC of libclrgc.so.
INSTANTIATE_TEST_SUITE_P(Gc, DotnetEndToEndTest, ::testing::Values("", "DOTNET_GCName=libclrgc.so"),
                         [](const auto& info) {
                           return std::string(info.param[0] ? "Segments" : "Regions");
                         });

}  // namespace
}  // namespace vmreplay::lift
