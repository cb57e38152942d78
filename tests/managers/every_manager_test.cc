// Every built-in manager replays every bundled trace on sim with the trace's own outcomes where
// its policy does not change them: no divergence on the traces vmreplay recorded or generated,
// and no more than passthrough's on the imported and Wine traces (which hold the recording's own
// failures and Wine's deviations). The budget's limit is set past every trace's use.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/managers/manager_test_util.h"

namespace vmreplay::replay {
namespace {

using namespace testing;

TEST(EveryManagerTest, BundledTracesKeepTheirOutcomes) {
  const char* managers[] = {"arena:size=1T",
                            "arena:size=1T,placement=best-fit",
                            "arena:size=1T,placement=next-fit",
                            "decommit-cache",
                            "decommit-cache:size=0",
                            "large-pages",
                            "budget:limit=1T"};
  int traces = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::string(VMREPLAY_SOURCE_DIR) + "/traces")) {
    if (entry.path().extension() != ".pb") continue;
    const std::string trace =
        std::filesystem::relative(entry.path(), VMREPLAY_SOURCE_DIR).generic_string();
    const bool own = trace.find("/synth/") != std::string::npos ||
                     trace.find("/windows/") != std::string::npos ||
                     trace.find("/linux/") != std::string::npos;
    const ReplayMetrics plain = ReplayBundled(trace, "passthrough");
    if (own) {
      EXPECT_EQ(plain.divergences, 0u) << trace;
    }
    for (const char* manager : managers) {
      const ReplayMetrics m = ReplayBundled(trace, manager);
      EXPECT_EQ(m.events, plain.events) << trace << " on " << manager;
      EXPECT_EQ(m.heap_calls, plain.heap_calls) << trace << " on " << manager;
      if (own) {
        EXPECT_EQ(m.divergences, 0u)
            << trace << " on " << manager << ": "
            << (m.first_divergences.empty() ? "" : m.first_divergences[0].what);
      } else {
        EXPECT_LE(m.divergences, plain.divergences) << trace << " on " << manager;
      }
    }
    ++traces;
  }
  EXPECT_GE(traces, 10);
}

}  // namespace
}  // namespace vmreplay::replay
