// Cross-check against glibc's mtrace: the heap calls in our trace are the calls glibc's own
// allocation tracer logs, no more and no fewer, inside a marked window of the test workload.
// (CPython was tried as a second program: with libc_malloc_debug preloaded, mtrace() called
// through ctypes opened no log at all, so it is not covered here.)
//
// How mtrace works in glibc 2.34+ (checked on 2.36): the tracer lives in
// libc_malloc_debug.so.0, which must be preloaded; the program must call mtrace(), which opens
// $MALLOC_TRACE; from then on every malloc-family call made through the dynamic symbol table is
// logged, one line per event ("@ caller" prefix optional):
//   malloc, calloc, memalign, posix_memalign (on success), aligned_alloc, valloc, pvalloc,
//   realloc(NULL, n)                     -> "+ ptr size"  (a failed malloc: "+ (nil) size")
//   free(p), p != NULL; realloc(p, 0)    -> "- p"         (free(NULL) is not logged)
//   realloc(p, n), n > 0, success        -> "< p" then "> q size"
//   realloc(p, n), n > 0, failure        -> "! p size"
// ExpectedMtraceLines() applies exactly this mapping to our events.
//
// Both tools interpose malloc, so the deterministic test workload runs twice: once under
// vmrecord alone, once under mtrace alone (LD_PRELOAD=libc_malloc_debug.so.0, MALLOC_TRACE
// set, the workload calls mtrace()); each window's counts must equal what the workload makes,
// and our events mapped through the table above must equal mtrace's lines.
// Why not one run with both preloads ("ours libc_malloc_debug.so.0")? Measured with
// LD_DEBUG=bindings: dlsym(RTLD_NEXT, "malloc") in a preloaded object searches that object's
// own local scope (itself, then its DT_NEEDED libraries), not the preloads after it, so our
// hook resolves straight to libc.so.6 and mtrace logs nothing; in the other order
// libc_malloc_debug calls __libc_malloc directly and our hooks see nothing. Stacking is
// therefore not a valid way to compare the two.
// The window: from the malloc of size kWindowBeginSize (exclusive) to the malloc of size
// kWindowEndSize (exclusive), in both logs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/recorder/recorder_test_util.h"
#include "tests/recorder/workload_counts.h"

namespace vmreplay::recorder {
namespace {

using namespace rectest;   // NOLINT: the helpers
using namespace workload;  // NOLINT: the workload's constants
constexpr char kMallocDebug[] = "libc_malloc_debug.so.0";

// mtrace's line kinds, counted.
struct MtraceCounts {
  uint64_t added = 0;           // '+'
  uint64_t removed = 0;         // '-'
  uint64_t realloc_from = 0;    // '<'
  uint64_t realloc_to = 0;      // '>'
  uint64_t realloc_failed = 0;  // '!'
  bool operator==(const MtraceCounts&) const = default;
};

std::ostream& operator<<(std::ostream& os, const MtraceCounts& c) {
  return os << "{+ " << c.added << ", - " << c.removed << ", < " << c.realloc_from << ", > "
            << c.realloc_to << ", ! " << c.realloc_failed << "}";
}

// True if glibc's debug malloc library is where ld.so looks for a bare LD_PRELOAD name.
bool HaveMallocDebug() {
  namespace fs = std::filesystem;
  for (const char* dir : {"/lib", "/usr/lib", "/lib64", "/usr/lib64"}) {
    std::error_code ec;
    if (fs::exists(fs::path(dir) / kMallocDebug, ec)) return true;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().filename().string().find("-linux-gnu") != std::string::npos &&
          fs::exists(entry.path() / kMallocDebug, ec)) {
        return true;
      }
    }
  }
  return false;
}

// Counts the lines of an mtrace log inside the window. `found` tells whether both window
// markers were seen.
MtraceCounts CountMtraceWindow(const std::string& path, bool* found) {
  MtraceCounts counts;
  std::ifstream in(path);
  std::string line;
  bool inside = false;
  *found = false;
  while (std::getline(in, line)) {
    std::istringstream tokens(line);
    std::string op, ptr, size_text;
    tokens >> op;
    if (op == "@") tokens >> op >> op;  // "@ caller" prefix
    tokens >> ptr >> size_text;
    const uint64_t size = size_text.empty() ? 0 : std::strtoull(size_text.c_str(), nullptr, 16);
    if (op == "+" && size == kWindowBeginSize && !inside) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (op == "+" && size == kWindowEndSize) {
      *found = true;
      break;
    }
    if (op == "+") ++counts.added;
    if (op == "-") ++counts.removed;
    if (op == "<") ++counts.realloc_from;
    if (op == ">") ++counts.realloc_to;
    if (op == "!") ++counts.realloc_failed;
  }
  return counts;
}

// The window's events of our trace: after the malloc of kWindowBeginSize, before the malloc of
// kWindowEndSize.
std::vector<Event> TraceWindow(const TraceContents& trace, bool* found) {
  std::vector<Event> window;
  bool inside = false;
  *found = false;
  for (const Event& e : trace.events) {
    if (!inside) {
      inside = e.op == Op::kMalloc && e.size == kWindowBeginSize;
      continue;
    }
    if (e.op == Op::kMalloc && e.size == kWindowEndSize) {
      *found = true;
      break;
    }
    // mtrace logs heap calls only, not the system calls glibc's malloc makes under them.
    if (e.origin != 0) continue;
    window.push_back(e);
  }
  return window;
}

// The mtrace lines our events must have produced (the mapping in the file comment).
MtraceCounts ExpectedMtraceLines(const std::vector<Event>& events) {
  MtraceCounts c;
  for (const Event& e : events) {
    switch (e.op) {
      case Op::kMalloc:
      case Op::kCalloc:
      case Op::kAlignedAlloc:
      case Op::kMemalign:
      case Op::kValloc:
      case Op::kPvalloc:
        ++c.added;
        break;
      case Op::kPosixMemalign:
        if (e.error == 0) ++c.added;
        break;
      case Op::kFree:
        if (e.addr != 0) ++c.removed;
        break;
      case Op::kRealloc:
        if (e.addr == 0) {
          ++c.added;
        } else if (e.size == 0) {
          ++c.removed;
        } else if (e.result != 0) {
          ++c.realloc_from;
          ++c.realloc_to;
        } else {
          ++c.realloc_failed;
        }
        break;
      default:
        break;  // the mmap family: not mtrace's business
    }
  }
  return c;
}

uint64_t CountOp(const std::vector<Event>& events, Op op) {
  uint64_t n = 0;
  for (const Event& e : events) n += e.op == op;
  return n;
}

class MtraceCrosscheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveMallocDebug()) GTEST_SKIP() << kMallocDebug << " not installed (glibc >= 2.34)";
    dir_ = MakeTempDir("mtrace_crosscheck");
  }

  // Runs `command` under vmrecord; returns the root trace.
  TraceContents Record(const std::vector<std::string>& command, const std::string& name) {
    std::vector<std::string> argv = {VMRECORD_BIN, "-o", dir_ + "/" + name + ".pb", "--"};
    argv.insert(argv.end(), command.begin(), command.end());
    const int rc = RunCommand(argv, {}, dir_ + "/" + name + ".out", dir_ + "/" + name + ".err");
    EXPECT_EQ(rc, 0) << ReadFile(dir_ + "/" + name + ".err");
    return ReadTrace(dir_ + "/" + name + ".pb");
  }

  std::string dir_;
};

// What the workload's window holds (tests/recorder/workload.cc, MtraceWindow): the free of the
// begin marker, kHeapRounds malloc/free pairs, calloc, realloc(NULL), realloc(p), memalign, 3
// frees and free(NULL).
constexpr uint64_t kWindowMallocs = kHeapRounds;
constexpr uint64_t kWindowFrees = 1 + kHeapRounds + 3 + 1;
const MtraceCounts kWorkloadMtrace = {
    .added = kHeapRounds + 3, .removed = kWindowFrees - 1, .realloc_from = 1, .realloc_to = 1};

void ExpectWorkloadWindow(const std::vector<Event>& window) {
  EXPECT_EQ(CountOp(window, Op::kMalloc), kWindowMallocs);
  EXPECT_EQ(CountOp(window, Op::kFree), kWindowFrees);
  EXPECT_EQ(CountOp(window, Op::kCalloc), 1u);
  EXPECT_EQ(CountOp(window, Op::kRealloc), 2u);
  EXPECT_EQ(CountOp(window, Op::kMemalign), 1u);
  EXPECT_EQ(window.size(), kWindowMallocs + kWindowFrees + 4);
}

TEST_F(MtraceCrosscheckTest, WorkloadSeparateRuns) {
  // Run 1: vmrecord alone.
  const TraceContents trace = Record({WORKLOAD_BIN, "mtrace"}, "alone");
  ASSERT_TRUE(trace.ok) << trace.error;
  bool trace_found = false, log_found = false;
  const std::vector<Event> window = TraceWindow(trace, &trace_found);
  ASSERT_TRUE(trace_found);
  ExpectWorkloadWindow(window);
  // Run 2: mtrace alone.
  const std::string log = dir_ + "/alone.mtrace";
  const int rc = RunCommand({WORKLOAD_BIN, "mtrace"},
                            {std::string("LD_PRELOAD=") + kMallocDebug, "MALLOC_TRACE=" + log});
  ASSERT_EQ(rc, 0);
  const MtraceCounts logged = CountMtraceWindow(log, &log_found);
  ASSERT_TRUE(log_found) << log;
  EXPECT_EQ(logged, kWorkloadMtrace);
  EXPECT_EQ(ExpectedMtraceLines(window), logged);
}

}  // namespace
}  // namespace vmreplay::recorder
