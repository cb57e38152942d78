// Differential test of the simulator against real Win32: win32_oracle.exe (built with mingw-w64)
// runs VirtualAlloc / VirtualFree / VirtualProtect / VirtualQuery sequences under Wine and records
// every call and outcome; the simulator replays each trace in layout-faithful mode and must
// reproduce every outcome, except the documented Wine deviations of wine_deviations.h.
//
// The traces checked into traces/wine/ are replayed too, so the comparison also runs where
// Wine is not installed. Set VMREPLAY_UPDATE_WINE_TRACES=1 to refresh them from a Wine run.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/wine/win32_replay.h"
#include "tests/wine/wine_session.h"

namespace vmreplay::wine_test {
namespace {

namespace fs = std::filesystem;

// Random sequences: seeds x calls, >= 10,000 calls in all.
constexpr int kSeeds[] = {1, 2, 3, 4};
constexpr int kCallsPerSeed = 3000;
// The random trace that is checked in (small: well under 1 MB).
constexpr int kCheckedInSeed = 1;

class Win32DifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = fs::path(VMREPLAY_WINE_WORK_DIR);
    std::unique_ptr<WineSession> wine =
        WineSession::Open(VMREPLAY_WINE64, VMREPLAY_WIN32_ORACLE_EXE, work_, &skip_reason_);
    if (!wine) {
      skip_reason_ +=
          " (the live Wine comparison is skipped; checked-in traces are still replayed)";
      return;
    }
    // Relative output names: the oracle's working directory is `work_` (Wine maps it).
    auto run = [&](const std::string& args, const std::string& log) {
      setup_error_ += wine->Run(args, log);
    };
    fs::remove(work_ / "edge.txt");
    run("edge edge.txt", "edge.log");
    for (int seed : kSeeds) {
      const std::string name = "random_seed" + std::to_string(seed) + ".txt";
      fs::remove(work_ / name);
      run("random " + std::to_string(seed) + " " + std::to_string(kCallsPerSeed) + " " + name,
          "random_seed" + std::to_string(seed) + ".log");
    }
    wine.reset();

    const char* update = std::getenv("VMREPLAY_UPDATE_WINE_TRACES");
    if (setup_error_.empty() && update != nullptr && std::string(update) == "1") {
      const fs::path dest(VMREPLAY_WINE_TRACES_DIR);
      fs::create_directories(dest);
      const std::string random = "random_seed" + std::to_string(kCheckedInSeed) + ".txt";
      for (const std::string& name : {std::string("edge.txt"), random}) {
        fs::copy_file(work_ / name, dest / name, fs::copy_options::overwrite_existing);
      }
    }
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }

  static void ExpectNoMismatches(const std::string& file) {
    const ReplayReport report = ReplayOracleTrace((work_ / file).string());
    const std::string summary = Describe(file, report);
    std::cout << summary;
    ASSERT_TRUE(report.error.empty()) << summary;
    EXPECT_GT(report.events, 0u);
    EXPECT_EQ(report.total_mismatches, 0u) << summary;
  }

  static inline std::string skip_reason_;
  static inline std::string setup_error_;
  static inline fs::path work_;
};

TEST_F(Win32DifferentialTest, EdgeCasesMatchWine) { ExpectNoMismatches("edge.txt"); }

TEST_F(Win32DifferentialTest, RandomSequencesMatchWine) {
  for (int seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    ExpectNoMismatches("random_seed" + std::to_string(seed) + ".txt");
  }
}

// The checked-in captures need no Wine: they keep the comparison running everywhere.
TEST(Win32CheckedInTraces, ReplayWithoutMismatches) {
  const fs::path dir(VMREPLAY_WINE_TRACES_DIR);
  std::vector<fs::path> traces;
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".txt") traces.push_back(entry.path());
    }
  }
  ASSERT_FALSE(traces.empty()) << "no traces in " << dir;
  for (const fs::path& trace : traces) {
    const ReplayReport report = ReplayOracleTrace(trace.string());
    const std::string summary = Describe(trace.filename().string(), report);
    std::cout << summary;
    ASSERT_TRUE(report.error.empty()) << summary;
    EXPECT_GT(report.events, 0u);
    EXPECT_EQ(report.total_mismatches, 0u) << summary;
  }
}

}  // namespace
}  // namespace vmreplay::wine_test
