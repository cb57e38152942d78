// The recorder changes nothing the program can see of its heap: the preload links only libc
// (no C++ runtime, whose start-up allocations used to appear in every trace: a malloc(72704) in
// the trace of /bin/true), and a C program's heap calls under vmrecord are exactly the calls
// glibc's mtrace logs for it without the recorder, in order, with the same sizes.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "tests/recorder/recorder_test_util.h"

namespace vmreplay::recorder {
namespace {

using namespace rectest;  // NOLINT: the helpers

std::string CommandOutput(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST(UnchangedProgramTest, PreloadNeedsOnlyLibc) {
  const std::string dynamic = CommandOutput(std::string("readelf -d ") + VMRECORD_PRELOAD);
  if (dynamic.empty()) GTEST_SKIP() << "readelf not available";
  EXPECT_NE(dynamic.find("[libc.so.6]"), std::string::npos) << dynamic;
  EXPECT_EQ(dynamic.find("libstdc++"), std::string::npos) << dynamic;
  EXPECT_EQ(dynamic.find("libgcc_s"), std::string::npos) << dynamic;
}

TEST(UnchangedProgramTest, TrueRecordsNoHeapCalls) {
  const std::string dir = MakeTempDir("unchanged_true");
  ASSERT_EQ(
      RunCommand({VMRECORD_BIN, "-o", dir + "/true.pb", "--", "/bin/true"}, {}, "", dir + "/err"),
      0);
  const TraceContents t = ReadTrace(dir + "/true.pb");
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.events.size(), 0u) << "calls the recorder itself caused";
}

// (kind, size) per heap call, as mtrace writes them: "+" allocation, "-" free, "<" ">" realloc.
using Calls = std::vector<std::pair<char, uint64_t>>;

Calls FromMtraceLog(const std::string& path) {
  Calls calls;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream tokens(line);
    std::string op, ptr, size;
    tokens >> op;
    if (op == "@") tokens >> op >> op;
    if (op.size() != 1 || std::string("+-<>!").find(op[0]) == std::string::npos) continue;
    tokens >> ptr >> size;
    calls.emplace_back(op[0], size.empty() ? 0 : std::stoull(size, nullptr, 16));
  }
  return calls;
}

Calls FromTrace(const TraceContents& t) {
  Calls calls;
  for (const Event& e : t.events) {
    switch (e.op) {
      case Op::kMalloc:
        calls.emplace_back('+', e.size);
        break;
      case Op::kCalloc:
        calls.emplace_back('+', e.count * e.size);
        break;
      case Op::kFree:
        if (e.addr != 0) calls.emplace_back('-', 0);
        break;
      case Op::kRealloc:
        calls.emplace_back('<', 0);
        calls.emplace_back('>', e.size);
        break;
      default:
        break;
    }
  }
  return calls;
}

// The calls up to the program's end marker, malloc(4321) (see c_program.c), as text.
constexpr uint64_t kEndMarker = 4321;
std::string Format(const Calls& calls) {
  std::string s;
  for (const auto& [op, size] : calls) {
    s += std::string(1, op) + " " + std::to_string(size) + "\n";
    if (op == '+' && size == kEndMarker) break;
  }
  return s;
}

TEST(UnchangedProgramTest, CProgramsHeapCallsAreWhatMtraceLogsWithoutTheRecorder) {
  const std::string dir = MakeTempDir("unchanged_c");
  const std::string log = dir + "/mtrace.log";
  if (RunCommand({C_PROGRAM_BIN}, {"LD_PRELOAD=libc_malloc_debug.so.0", "MALLOC_TRACE=" + log}) !=
          0 ||
      !std::filesystem::exists(log)) {
    GTEST_SKIP() << "glibc's mtrace (libc_malloc_debug.so.0) did not run";
  }
  const Calls unrecorded = FromMtraceLog(log);
  ASSERT_EQ(
      RunCommand({VMRECORD_BIN, "-o", dir + "/c.pb", "--", C_PROGRAM_BIN}, {}, "", dir + "/err"), 0)
      << ReadFile(dir + "/err");
  const TraceContents t = ReadTrace(dir + "/c.pb");
  ASSERT_TRUE(t.ok) << t.error;
  const Calls recorded = FromTrace(t);
  ASSERT_NE(Format(unrecorded).find("+ 4321"), std::string::npos) << Format(unrecorded);
  EXPECT_GE(unrecorded.size(), 8u) << Format(unrecorded);
  EXPECT_EQ(Format(recorded), Format(unrecorded));
}

}  // namespace
}  // namespace vmreplay::recorder
