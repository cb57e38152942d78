// Cross-check against the kernel's own tracepoints: for real programs, every mmap, munmap,
// mremap, mprotect and madvise system call each process image made after its preload started
// is in that image's trace, whoever made it (the program through the symbol table, glibc's
// malloc, pthread stacks, setlocale, ld.so's dlopen), no more and no fewer, per call kind.
//
// The oracle is ftrace (syscalls:sys_enter_* in a tracefs instance of our own, following
// vmrecord's process tree with event-fork, each event with its thread group id): the kernel's
// count, not ours. strace cannot be the oracle here: a process has one tracer, and with strace
// attached vmrecord's own system-call tracer cannot attach (strace_crosscheck_test.cc checks
// that case, the hooked calls alone).
//
// Each trace then replays on sim with no divergence and nothing untranslatable.
//
// "After its preload started": an image starts recording at its announcement (the
// prctl(0x564d5243) of syscall_filter.h, also in ftrace); a successful execve starts a new
// image. What ld.so maps before that is in the image's address-space snapshot instead.
//
// Needs root (tracefs) and skips, saying why, without it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "tests/recorder/recorder_test_util.h"
#include "tests/recorder/workload_counts.h"

namespace vmreplay::recorder {
namespace {

using namespace rectest;  // NOLINT: the helpers

const char* const kCalls[] = {"mmap", "munmap", "mremap", "mprotect", "madvise"};
constexpr char kDropped[] = "(dropped)";
// The bytes mapped and unmapped: the lengths of the mmap and munmap calls, summed.
const char* const kBytes[] = {"mmap bytes", "munmap bytes"};
constexpr char kTracefs[] = "/sys/kernel/tracing";

bool WriteTo(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

// A tracefs instance: its own buffer, events and pid filter, so nothing else on the machine
// (another test, a user's tracing) is disturbed or disturbs it.
class FtraceInstance {
 public:
  ~FtraceInstance() {
    if (!dir_.empty()) rmdir(dir_.c_str());
  }

  // Empty on success, else why ftrace cannot be used here.
  std::string Open() {
    const std::string probe = std::string(kTracefs) + "/events/syscalls/sys_enter_mmap";
    struct stat st;
    if (stat(probe.c_str(), &st) != 0) {
      // Not mounted yet (tracefs is often mounted on demand): root can mount it.
      mount("nodev", kTracefs, "tracefs", 0, nullptr);
      if (stat(probe.c_str(), &st) != 0) {
        return std::string("no tracefs with syscall events at ") + kTracefs + " (" +
               strerror(errno) + "; needs root and CONFIG_FTRACE_SYSCALLS)";
      }
    }
    dir_ = std::string(kTracefs) + "/instances/vmreplay_test_" + std::to_string(getpid()) + "_" +
           std::to_string(counter_++);
    if (mkdir(dir_.c_str(), 0700) != 0) {
      const std::string why = "cannot create " + dir_ + ": " + strerror(errno);
      dir_.clear();
      return why;
    }
    bool ok = WriteTo(dir_ + "/buffer_size_kb", "32768");
    for (const char* call : kCalls) {
      ok = ok && WriteTo(dir_ + "/events/syscalls/sys_enter_" + std::string(call) + "/enable", "1");
    }
    ok = ok && WriteTo(dir_ + "/events/syscalls/sys_enter_prctl/enable", "1") &&
         WriteTo(dir_ + "/events/syscalls/sys_exit_execve/enable", "1") &&
         WriteTo(dir_ + "/options/event-fork", "1") && WriteTo(dir_ + "/options/record-tgid", "1");
    return ok ? "" : "cannot configure " + dir_;
  }

  bool FollowPid(pid_t pid) { return WriteTo(dir_ + "/set_event_pid", std::to_string(pid)); }
  void Stop() { WriteTo(dir_ + "/tracing_on", "0"); }
  std::string Contents() const { return ReadFile(dir_ + "/trace"); }

 private:
  std::string dir_;
  static inline int counter_ = 0;
};

using CallCounts = std::map<std::string, uint64_t>;  // call kind -> count
struct ImageKey {
  uint32_t pid;
  int ordinal;  // 0, 1, ...: the pid's images that announced themselves, in order
  bool operator<(const ImageKey& o) const {
    return pid != o.pid ? pid < o.pid : ordinal < o.ordinal;
  }
};

// Per image that announced itself: the calls the kernel saw from then until the next exec.
std::map<ImageKey, CallCounts> KernelCounts(const std::string& trace, uint64_t* lost) {
  std::map<ImageKey, CallCounts> images;
  std::map<uint32_t, bool> recording;  // tgid -> its current image announced itself
  std::map<uint32_t, int> announced;   // tgid -> images announced so far
  std::istringstream in(trace);
  static const std::regex kLine(R"(\(\s*(\d+)\)\s+\[\d+\].*?: sys_(\w+)(.*)$)");
  static const std::regex kEntries(R"(entries-in-buffer/entries-written: (\d+)/(\d+))");
  std::smatch m;
  *lost = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind('#', 0) == 0) {
      if (std::regex_search(line, m, kEntries)) *lost = std::stoull(m[2]) - std::stoull(m[1]);
      continue;
    }
    if (!std::regex_search(line, m, kLine)) continue;
    const uint32_t tgid = static_cast<uint32_t>(std::stoul(m[1]));
    const std::string call = m[2];
    const std::string rest = m[3];
    if (call == "execve") {
      if (rest.find("-> 0x0") != std::string::npos) recording[tgid] = false;
    } else if (call == "prctl") {
      // The first image announces itself twice (before and after installing the filter).
      if (rest.find("option: 0x564d5243") != std::string::npos && !recording[tgid]) {
        recording[tgid] = true;
        images[{tgid, announced[tgid]++}];
      }
    } else if (recording[tgid]) {
      CallCounts& counts = images[{tgid, announced[tgid] - 1}];
      ++counts[call];
      static const std::regex kLen(R"(len: (0x[0-9a-f]+|[0-9]+))");
      if ((call == "mmap" || call == "munmap") && std::regex_search(rest, m, kLen)) {
        counts[call + " bytes"] += std::stoull(m[1], nullptr, 0);
      }
    }
  }
  return images;
}

// `exit_code`: the command's own (vmrecord passes it on).
void CrossCheck(const std::vector<std::string>& command, const std::string& what,
                int exit_code = 0) {
  FtraceInstance ftrace;
  if (const std::string why = ftrace.Open(); !why.empty()) GTEST_SKIP() << why;
  const std::string dir = MakeTempDir("vmrecord_ftrace");
  std::vector<std::string> argv = {VMRECORD_BIN, "-o", dir + "/trace.pb", "--"};
  argv.insert(argv.end(), command.begin(), command.end());

  // vmrecord waits on a pipe until ftrace follows its pid, so that nothing it starts is missed.
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(go[1]);
    char c;
    if (read(go[0], &c, 1) != 1) _exit(126);
    const int out = open((dir + "/stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open((dir + "/stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(go[0]);
  const bool following = ftrace.FollowPid(pid);
  EXPECT_EQ(write(go[1], "g", 1), 1);
  close(go[1]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ftrace.Stop();
  ASSERT_TRUE(following) << "cannot set the instance's pid filter";
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == exit_code)
      << ReadFile(dir + "/stderr.txt");
  const std::string stderr_text = ReadFile(dir + "/stderr.txt");
  ASSERT_EQ(stderr_text.find("only hooked calls recorded"), std::string::npos)
      << "the system-call tracer did not attach:\n"
      << stderr_text;

  uint64_t lost = 0;
  const std::map<ImageKey, CallCounts> kernel = KernelCounts(ftrace.Contents(), &lost);
  ASSERT_EQ(lost, 0u) << "the ftrace buffer overflowed";

  // Our side: each trace is one image; a pid's images in instance order.
  std::map<uint32_t, std::map<uint32_t, CallCounts>> by_pid;  // pid -> instance -> counts
  for (const auto& name : ListFiles(dir, "trace.")) {
    const TraceContents t = ReadTrace(dir + "/" + name);
    ASSERT_TRUE(t.ok) << name << ": " << t.error;
    ASSERT_TRUE(t.has_footer) << name;
    EXPECT_EQ(t.header.metadata().at("syscall_tracer"), "on") << name;
    // With every mapping in it, the raw recording replays on sim as it ran: no call with
    // another outcome, and nothing on memory the replay does not know.
    const std::string json = dir + "/" + name + ".replay.json";
    ASSERT_EQ(RunCommand({VMREPLAY_BIN, dir + "/" + name, "--latency=off", "--json"}, {}, json), 0)
        << name;
    const std::string replay = ReadFile(json);
    // (A fork child frees blocks its parent allocated before the fork: the heap it inherited
    // is not in its trace, so only an exec'd image is held to no untranslatable call.)
    if (t.header.metadata().at("started_by") == "exec") {
      EXPECT_NE(replay.find("\"untranslatable\":0,"), std::string::npos) << name << ": " << replay;
    }
    EXPECT_NE(replay.find("\"divergences\":0,"), std::string::npos) << name << ": " << replay;
    CallCounts& c = by_pid[static_cast<uint32_t>(std::stoul(t.header.metadata().at("pid")))]
                          [static_cast<uint32_t>(std::stoul(t.header.metadata().at("instance")))];
    // Calls whose thread died inside them (its process exiting meanwhile): their outcome was
    // never seen, so the trace counts them as dropped.
    c[kDropped] = t.footer.dropped_events();
    for (const auto& counts : {t.op_counts, t.system_op_counts}) {
      for (const auto& [op, n] : counts) {
        if (IsPosixVirtualOp(op)) c[std::string(OpName(op))] += n;
      }
    }
    for (const Event& e : t.events) {
      if (e.op == Op::kMmap || e.op == Op::kMunmap)
        c[std::string(OpName(e.op)) + " bytes"] += e.size;
    }
  }
  std::map<ImageKey, CallCounts> ours;
  for (const auto& [pid, images] : by_pid) {
    int ordinal = 0;
    for (const auto& [instance, counts] : images) ours[{pid, ordinal++}] = counts;
  }

  ASSERT_EQ(ours.size(), kernel.size()) << "process images: traces vs announced in ftrace";
  uint64_t total = 0;
  std::printf("ftrace cross-check: %s, %zu process image(s)\n", what.c_str(), ours.size());
  std::printf("  %-9s %10s %10s\n", "call", "kernel", "trace");
  std::map<std::string, std::pair<uint64_t, uint64_t>> sums;
  for (const auto& [key, counts] : kernel) {
    ASSERT_EQ(ours.count(key), 1u) << "pid " << key.pid << " image " << key.ordinal;
    const CallCounts& mine = ours.at(key);
    uint64_t missing = 0;
    for (const char* call : kCalls) {
      const uint64_t k = counts.count(call) ? counts.at(call) : 0;
      const uint64_t t = mine.count(call) ? mine.at(call) : 0;
      EXPECT_LE(t, k) << call << " in pid " << key.pid << " image " << key.ordinal;
      missing += k > t ? k - t : 0;
      sums[call].first += k;
      sums[call].second += t;
      total += k;
    }
    const uint64_t dropped = mine.count(kDropped) ? mine.at(kDropped) : 0;
    // "The trace's mapped bytes equal the kernel's" (a dropped call's length is not known).
    for (const char* bytes : kBytes) {
      const uint64_t k = counts.count(bytes) ? counts.at(bytes) : 0;
      const uint64_t t = mine.count(bytes) ? mine.at(bytes) : 0;
      if (dropped == 0) {
        EXPECT_EQ(t, k) << bytes << " in pid " << key.pid << " image " << key.ordinal;
      } else {
        EXPECT_LE(t, k) << bytes << " in pid " << key.pid << " image " << key.ordinal;
      }
      sums[bytes].first += k;
      sums[bytes].second += t;
    }
    // A call whose thread was killed at its stop (the process exiting meanwhile) is counted as
    // dropped whether or not the kernel went on to run it: nobody can tell afterwards. So the
    // calls the kernel saw and the trace has not are at most the footer's dropped ones.
    EXPECT_LE(missing, dropped) << "calls the kernel saw that the trace has not, in pid " << key.pid
                                << " image " << key.ordinal
                                << ", must be among the ones its footer counts as dropped";
    sums[kDropped].second += dropped;
  }
  for (const char* call : kCalls) {
    std::printf("  %-9s %10llu %10llu\n", call, static_cast<unsigned long long>(sums[call].first),
                static_cast<unsigned long long>(sums[call].second));
  }
  for (const char* bytes : kBytes) {
    std::printf("  %-12s %14llu %14llu\n", bytes,
                static_cast<unsigned long long>(sums[bytes].first),
                static_cast<unsigned long long>(sums[bytes].second));
  }
  std::printf("  dropped (thread died inside the call): %llu\n",
              static_cast<unsigned long long>(sums[kDropped].second));
  EXPECT_GT(total, 0u);
}

TEST(FtraceCrossCheckTest, LsWithLocaleFiles) {
  // setlocale maps its locale files inside glibc: never through the symbol table.
  CrossCheck({"/bin/ls", "-l", "/"}, "ls -l /");
}

TEST(FtraceCrossCheckTest, WorkloadThreadsForkAndExec) {
  // Threads (glibc's stacks and arenas), a fork child and an exec'd image.
  CrossCheck({WORKLOAD_BIN, "counts"}, "workload counts (threads, fork, exec)",
             workload::kExitCode);
}

TEST(FtraceCrossCheckTest, ShellPipeline) {
  CrossCheck({"/bin/sh", "-c", "ls / | sort | head -3 > /dev/null; true"}, "sh pipeline");
}

TEST(FtraceCrossCheckTest, PythonThreads) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  CrossCheck({"/usr/bin/python3", "-c",
              "import threading\n"
              "def work():\n"
              "    x = [bytearray(100000) for i in range(200)]\n"
              "ts = [threading.Thread(target=work) for i in range(4)]\n"
              "[t.start() for t in ts]\n"
              "[t.join() for t in ts]\n"},
             "python3, 4 threads");
}

TEST(FtraceCrossCheckTest, Node) {
  const std::string node = FindInPath("node");
  if (node.empty()) GTEST_SKIP() << "node is not installed";
  CrossCheck({node, "-e", "let a = []; for (let i = 0; i < 200000; i++) a.push({i}); a = null;"},
             "node (V8 and its threads)");
}

TEST(FtraceCrossCheckTest, DotnetGcWorkload) {
  const std::string dotnet = FindInPath("dotnet");
  if (dotnet.empty()) GTEST_SKIP() << "dotnet is not installed: the .NET SDK builds the workload";
  // A real CLR: hostfxr, hostpolicy and libcoreclr.so are dlopen'ed (ld.so's own mmaps after
  // the preload started), the GC reserves and commits through the symbol table.
  const std::string artifacts = MakeTempDir("vmrecord_ftrace_dotnet");
  ASSERT_EQ(RunCommand({"nice", "-n", "15", dotnet, "build",
                        std::string(VMREPLAY_SOURCE_DIR) + "/traces/clr/workloads/batch", "-c",
                        "Release", "-nologo", "-v", "quiet", "--artifacts-path", artifacts},
                       {}, artifacts + "/build.log", artifacts + "/build.err"),
            0)
      << ReadFile(artifacts + "/build.log");
  CrossCheck({dotnet, artifacts + "/bin/batch/release/batch.dll", "1", "37"},
             "dotnet batch workload (a real CLR)", 37);
}

}  // namespace
}  // namespace vmreplay::recorder
