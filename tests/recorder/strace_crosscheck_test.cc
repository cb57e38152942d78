// Cross-check against strace: for real programs, every mmap/munmap/mremap/mprotect/madvise
// system call the recorded program made through the dynamic symbol table is in our trace, no
// more and no fewer.
//
// How the calls strace sees are accounted for (strace -f -k prints each call's stack):
//  - recorded: the stack passes through vmrecord_traced_syscall, the one function the hooks
//    use for calls they record. Their count per operation must equal the trace's, exactly.
//  - recorder's own: through vmrecord_untraced_syscall or the preload's own system-call code
//    inside EnsureSession (mapping the ring). Any other untraced call through the hooks would
//    be a lost event: must be none.
// Under strace, vmrecord's own system-call tracer cannot attach (a process has one tracer), so
// these runs record the hooked calls only; tests/recorder/ftrace_crosscheck_test.cc checks the
// tracer's calls against the kernel's own tracepoints instead.
//  - not through the symbol table at all, so no LD_PRELOAD library can see them: ld.so
//    mapping the program and its libraries before any preload code runs (and later for
//    dlopen), and glibc's internal calls (malloc growing its heaps, thread stacks). These are
//    counted and printed, by their innermost frame, including "loader calls before the first
//    recorded call" (the brief's before-the-preload-is-active figure).
// vmrecord's own process (the first pid strace sees) is excluded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tests/recorder/recorder_test_util.h"

namespace vmreplay::recorder {
namespace {

using namespace rectest;  // NOLINT: the helpers

const std::map<std::string, Op> kSyscallOps = {{"mmap", Op::kMmap},
                                               {"munmap", Op::kMunmap},
                                               {"mremap", Op::kMremap},
                                               {"mprotect", Op::kMprotect},
                                               {"madvise", Op::kMadvise}};

struct StraceCall {
  int pid = 0;
  std::string name;
  std::vector<std::string> stack;  // innermost first
};

// Completed calls, in completion order. A call split by another thread's output appears as
// "<unfinished ...>" then "<... name resumed>"; -k prints its stack after the resumed line.
std::vector<StraceCall> ParseStrace(const std::string& path) {
  std::vector<StraceCall> calls;
  std::ifstream in(path);
  std::string line;
  static const std::regex kComplete(R"(^(\d+)\s+(\w+)\(.*\)\s+= .*$)");
  static const std::regex kResumed(R"(^(\d+)\s+<\.\.\. (\w+) resumed>.*= .*$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.rfind(" > ", 0) == 0) {
      if (!calls.empty()) calls.back().stack.push_back(line.substr(3));
      continue;
    }
    if (line.find("<unfinished ...>") != std::string::npos) continue;
    if (std::regex_match(line, m, kResumed) || std::regex_match(line, m, kComplete)) {
      calls.push_back({std::stoi(m[1]), m[2], {}});
    }
  }
  return calls;
}

bool StackHas(const StraceCall& c, const std::string& what) {
  for (const auto& frame : c.stack) {
    if (frame.find(what) != std::string::npos) return true;
  }
  return false;
}

// Where a call no hook saw came from: ld.so; glibc's malloc working for a heap call that we
// recorded (its frames sit under one of our heap hooks); other glibc internals (thread
// stacks, ...); or the innermost frame's module.
std::string Origin(const StraceCall& c) {
  if (c.stack.empty()) return "unknown (no stack)";
  const std::string& f = c.stack.front();
  if (f.find("/ld-linux") != std::string::npos) return "ld.so";
  if (f.find("/libc.so") != std::string::npos) {
    return StackHas(c, "libvmrecord_preload") ? "libc-internal (malloc, under a recorded heap call)"
                                              : "libc-internal (threads, stdio, ...)";
  }
  return f.substr(0, f.find('('));
}

void CrossCheck(const std::vector<std::string>& command) {
  const std::string strace = FindInPath("strace");
  if (strace.empty()) GTEST_SKIP() << "strace is not installed (apt-get install strace)";
  const std::string dir = MakeTempDir("vmrecord_strace");
  const std::string log = dir + "/strace.txt";
  std::vector<std::string> argv = {strace,
                                   "-f",
                                   "-k",
                                   "-qq",
                                   "-e",
                                   "trace=mmap,munmap,mremap,mprotect,madvise",
                                   "-o",
                                   log,
                                   VMRECORD_BIN,
                                   "-o",
                                   dir + "/trace.pb",
                                   "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  ASSERT_EQ(RunCommand(argv, {}, dir + "/stdout.txt", dir + "/stderr.txt"), 0)
      << ReadFile(dir + "/stderr.txt");

  // Our side: every trace the recording produced (the command and any children).
  std::map<Op, uint64_t> ours;
  for (const auto& name : ListFiles(dir, "trace.")) {
    const TraceContents t = ReadTrace(dir + "/" + name);
    ASSERT_TRUE(t.ok) << name << ": " << t.error;
    ASSERT_TRUE(t.has_footer);
    EXPECT_EQ(t.footer.dropped_events(), 0u);
    for (const auto& [op, n] : t.op_counts) ours[op] += n;
  }

  const std::vector<StraceCall> calls = ParseStrace(log);
  ASSERT_FALSE(calls.empty());
  const int vmrecord_pid = calls.front().pid;
  std::map<Op, uint64_t> recorded;
  std::map<std::string, std::map<std::string, uint64_t>> unseen;  // origin -> syscall -> n
  std::map<std::string, uint64_t> loader_before_first;            // syscall -> n
  std::set<int> seen_first_recorded;
  uint64_t own = 0;
  for (const StraceCall& c : calls) {
    if (c.pid == vmrecord_pid) continue;
    const auto op = kSyscallOps.find(c.name);
    ASSERT_NE(op, kSyscallOps.end()) << c.name;
    if (StackHas(c, "vmrecord_traced_syscall")) {
      ++recorded[op->second];
      seen_first_recorded.insert(c.pid);
    } else if (StackHas(c, "vmrecord_untraced_syscall") ||
               (!c.stack.empty() && c.stack.front().find("libvmrecord_preload") !=
                                        std::string::npos)) {  // OwnSyscall: the segment's mmap
      EXPECT_TRUE(StackHas(c, "EnsureSession"))
          << "a call passed through the hooks unrecorded outside the recorder's own attach:\n"
          << c.name << " in pid " << c.pid << "\n  " << (c.stack.size() > 3 ? c.stack[3] : "");
      ++own;
    } else {
      const std::string origin = Origin(c);
      ++unseen[origin][c.name];
      if (origin == "ld.so" && seen_first_recorded.count(c.pid) == 0) {
        ++loader_before_first[c.name];
      }
    }
  }

  for (const auto& [name, op] : kSyscallOps) {
    const uint64_t traced = recorded.count(op) ? recorded.at(op) : 0;
    const uint64_t in_trace = ours.count(op) ? ours.at(op) : 0;
    EXPECT_EQ(in_trace, traced) << name << ": trace vs strace calls through the hooks";
  }

  // The accounting, for the log (and the README).
  std::printf("strace cross-check: %s\n", command[0].c_str());
  std::printf("  %-9s %9s %9s %12s %14s %s\n", "syscall", "strace", "recorded", "loader<1st",
              "libc-internal", "other");
  for (const auto& [name, op] : kSyscallOps) {
    uint64_t total = 0, libc = 0, other = 0;
    for (const auto& [origin, by_name] : unseen) {
      const uint64_t n = by_name.count(name) ? by_name.at(name) : 0;
      total += n;
      const bool is_libc = origin.rfind("libc-internal", 0) == 0;
      if (is_libc) libc += n;
      if (!is_libc && origin != "ld.so") other += n;
    }
    const uint64_t rec = recorded.count(op) ? recorded.at(op) : 0;
    total += rec;
    std::printf("  %-9s %9llu %9llu %12llu %14llu %llu\n", name.c_str(),
                static_cast<unsigned long long>(total), static_cast<unsigned long long>(rec),
                static_cast<unsigned long long>(
                    loader_before_first.count(name) ? loader_before_first.at(name) : 0),
                static_cast<unsigned long long>(libc), static_cast<unsigned long long>(other));
  }
  std::printf("  recorder's own (ring attach, unrecorded): %llu\n",
              static_cast<unsigned long long>(own));
  for (const auto& [origin, by_name] : unseen) {
    uint64_t n = 0;
    for (const auto& [name, count] : by_name) n += count;
    std::printf("  not through the symbol table, from %s: %llu\n", origin.c_str(),
                static_cast<unsigned long long>(n));
  }
}

TEST(StraceCrossCheckTest, Python) {
  const std::string python = FindInPath("python3");
  if (python.empty()) GTEST_SKIP() << "python3 is not installed";
  // /usr/bin/python3 directly: a pyenv shim would be a shell script exec'ing python later.
  const std::string exe = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : python;
  CrossCheck({exe, "-c",
              "import mmap\n"
              "x = [bytearray(1000) for i in range(20000)]\n"
              "m = mmap.mmap(-1, 1 << 20)\n"
              "m.resize(1 << 21)\n"
              "m.close()\n"
              "del x\n"});
}

TEST(StraceCrossCheckTest, NodeGcHeavy) {
  const std::string node = FindInPath("node");
  if (node.empty()) GTEST_SKIP() << "node is not installed";
  CrossCheck({node, "-e",
              "let keep = [];\n"
              "for (let i = 0; i < 30000; i++) {\n"
              "  keep.push({a: i, b: 'x' + i, c: new Array(8).fill(i)});\n"
              "  if (keep.length > 2000) keep = [];\n"
              "}\n"});
}

TEST(StraceCrossCheckTest, JavaVersion) {
  const std::string java = FindInPath("java");
  if (java.empty()) GTEST_SKIP() << "java is not installed";
  CrossCheck({java, "-Xshare:auto", "-version"});
}

}  // namespace
}  // namespace vmreplay::recorder
