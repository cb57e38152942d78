// End-to-end: vmrecord records tests/recorder/workload and the trace holds exactly the calls
// the workload made.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/recorder/recorder_test_util.h"
#include "tests/recorder/workload_counts.h"

namespace vmreplay::recorder {
namespace {

using namespace rectest;   // NOLINT: the helpers
using namespace workload;  // NOLINT: the promised counts

bool IsMarkedMalloc(const Event& e) {
  return e.op == Op::kMalloc && e.size >= kMarkerBase && e.size < kMarkerBase + 1000000;
}

class VmrecordTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("vmrecord_test"); }
  std::string dir_;
};

// Records the counting workload with `flags` and checks every count, argument and outcome.
void RecordsExactCounts(const std::string& dir_, const std::vector<std::string>& flags) {
  const std::string trace = dir_ + "/counts.pb";
  std::vector<std::string> argv = {VMRECORD_BIN, "-o", trace};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"--", WORKLOAD_BIN, "counts"});
  const int rc = RunCommand(argv, {}, "", dir_ + "/stderr.counts");
  ASSERT_EQ(rc, kExitCode) << "vmrecord must exit with the command's exit code";
  EXPECT_EQ(ReadFile(dir_ + "/stderr.counts").find("warning"), std::string::npos)
      << ReadFile(dir_ + "/stderr.counts");

  const TraceContents root = ReadTrace(trace);
  ASSERT_TRUE(root.ok) << root.error;
  EXPECT_EQ(root.header.platform(), proto::PLATFORM_LINUX);
  EXPECT_EQ(root.header.source(), proto::SOURCE_LINUX_PRELOAD);
  EXPECT_EQ(root.header.pointer_bits(), 64u);
  EXPECT_EQ(root.header.page_size(), static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
  EXPECT_GT(root.header.physical_memory(), 0u);
  EXPECT_GT(root.header.start_time_unix_ns(), 0u);
  EXPECT_GT(root.header.max_user_address(), root.header.min_user_address());
  ASSERT_GE(root.header.command_line_size(), 2);
  EXPECT_EQ(root.header.command_line(1), "counts");

  // The mmap family: glibc never calls these through the symbol table, so every one is ours.
  EXPECT_EQ(root.op_counts.at(Op::kMmap), static_cast<uint64_t>(kRootMmaps));
  EXPECT_EQ(root.op_counts.at(Op::kMunmap), static_cast<uint64_t>(kRootMunmaps));
  EXPECT_EQ(root.op_counts.at(Op::kMprotect), static_cast<uint64_t>(kRootMprotects));
  EXPECT_EQ(root.op_counts.at(Op::kMadvise), static_cast<uint64_t>(kRootMadvises));
  EXPECT_EQ(root.op_counts.at(Op::kMremap), static_cast<uint64_t>(kRootMremaps));

  // The heap: the workload's marked calls, each from the thread that made it, each freed.
  std::set<uint64_t> marked_results;
  std::set<uint64_t> marked_threads;
  uint64_t marked = 0;
  for (const Event& e : root.events) {
    if (IsMarkedMalloc(e)) {
      ++marked;
      marked_results.insert(e.result);
      marked_threads.insert(e.thread);
      EXPECT_NE(e.result, 0u);
      EXPECT_EQ(e.error, 0u);
    }
  }
  EXPECT_EQ(marked, kThreads * kHeapRounds);
  EXPECT_EQ(marked_threads.size(), kThreads);
  uint64_t marked_frees = 0;
  std::set<uint64_t> live = {};
  for (const Event& e : root.events) {
    if (IsMarkedMalloc(e)) live.insert(e.result);
    if (e.op == Op::kFree && live.erase(e.addr) != 0) ++marked_frees;
  }
  EXPECT_EQ(marked_frees, kThreads * kHeapRounds);

  auto count_if = [&](Op op, uint64_t size) {
    uint64_t n = 0;
    for (const Event& e : root.events) n += e.op == op && e.size == size;
    return n;
  };
  EXPECT_EQ(count_if(Op::kCalloc, kMarkerCallocSize), 1u);
  EXPECT_EQ(count_if(Op::kRealloc, kMarkerReallocSize), 1u);
  EXPECT_EQ(count_if(Op::kRealloc, kMarkerReallocSize * 2), 1u);
  EXPECT_EQ(count_if(Op::kPosixMemalign, kMarkerAlignedSize), 1u);
  EXPECT_EQ(count_if(Op::kAlignedAlloc, kMarkerAlignedSize), 1u);
  EXPECT_EQ(count_if(Op::kMemalign, kMarkerAlignedSize), 1u);
  EXPECT_EQ(count_if(Op::kValloc, kMarkerAlignedSize), 1u);
  EXPECT_EQ(count_if(Op::kPvalloc, kMarkerAlignedSize), 1u);
  for (const Event& e : root.events) {
    if (e.op == Op::kPosixMemalign && e.size == kMarkerAlignedSize) {
      EXPECT_EQ(e.alignment, 64u);
      EXPECT_EQ(e.result % 64, 0u);
    }
    if (e.op == Op::kCalloc && e.size == kMarkerCallocSize) {
      EXPECT_EQ(e.count, 3u);
    }
  }

  // Arguments and outcomes of the mmap family.
  for (const Event& e : root.events) {
    if (e.op == Op::kMmap && e.size == 64 * 1024) {
      EXPECT_EQ(e.protect, 0u);
      EXPECT_EQ(e.fd, -1);
      EXPECT_NE(e.result, ~uint64_t{0});
      EXPECT_EQ(e.error, 0u);
    }
    if (e.op == Op::kMremap) {
      EXPECT_EQ(e.size, 4096u);
      EXPECT_EQ(e.new_size, 8192u);
    }
  }

  // glibc's own calls, from the system-call tracer: a stack per thread (the workload's threads
  // run at the same time, so none is reused from glibc's stack cache).
  uint64_t stacks = 0;
  for (const Event& e : root.events) {
    stacks += e.op == Op::kMmap && e.origin == static_cast<uint32_t>(CallOrigin::kLibc) &&
              (e.flags & MAP_STACK) != 0;
  }
  EXPECT_EQ(stacks, kThreads) << "thread stacks mapped by glibc's pthread_create";
  EXPECT_GT(root.system_op_counts.size(), 0u);

  // Timing: per thread, timestamps never go backwards, except for the heap's own calls: they
  // start inside the heap call they belong to, which is in the trace after them.
  std::map<uint64_t, uint64_t> last_ts;
  for (const Event& e : root.events) {
    if (e.origin == static_cast<uint32_t>(CallOrigin::kHeapInternal)) continue;
    EXPECT_GE(e.timestamp_ns, last_ts[e.thread]);
    last_ts[e.thread] = e.timestamp_ns;
  }

  // Footer: nothing dropped, one entry per thread that made calls, counts add up.
  ASSERT_TRUE(root.has_footer);
  EXPECT_EQ(root.footer.dropped_events(), 0u);
  EXPECT_EQ(root.footer.end().how(), proto::ProcessEnd::HOW_EXITED);
  EXPECT_EQ(root.footer.end().exit_code(), kExitCode);
  uint64_t per_thread_total = 0;
  std::set<uint64_t> footer_threads;
  for (const auto& t : root.footer.threads()) {
    per_thread_total += t.event_count();
    footer_threads.insert(t.thread_id());
  }
  EXPECT_EQ(per_thread_total, root.events.size());
  for (uint64_t tid : marked_threads) EXPECT_EQ(footer_threads.count(tid), 1u);

  // Children: the fork child, the second fork child (before exec) and its exec'd image.
  const std::vector<std::string> children = ListFiles(dir_, "counts.");
  std::vector<std::string> child_traces;
  for (const auto& name : children) {
    if (name != "counts.pb") child_traces.push_back(name);
  }
  ASSERT_EQ(child_traces.size(), 3u) << "expected fork child, fork-then-exec child, exec image";
  int fork_child = 0, exec_image = 0, empty_pre_exec = 0;
  for (const auto& name : child_traces) {
    const TraceContents child = ReadTrace(dir_ + "/" + name);
    ASSERT_TRUE(child.ok) << name << ": " << child.error;
    const auto mmaps = child.op_counts.count(Op::kMmap) ? child.op_counts.at(Op::kMmap) : 0;
    const auto munmaps = child.op_counts.count(Op::kMunmap) ? child.op_counts.at(Op::kMunmap) : 0;
    if (mmaps == static_cast<uint64_t>(kForkChildMmaps)) {
      ++fork_child;
      EXPECT_EQ(munmaps, static_cast<uint64_t>(kForkChildMmaps));
      uint64_t child_marked = 0;
      for (const Event& e : child.events) child_marked += IsMarkedMalloc(e);
      EXPECT_EQ(child_marked, static_cast<uint64_t>(kForkChildMallocs));
      EXPECT_EQ(child.header.metadata().at("started_by"), "fork");
      // Its own command line: the parent's argv, not whatever a later exec would show.
      ASSERT_GE(child.header.command_line_size(), 2);
      EXPECT_EQ(child.header.command_line(1), "counts");
      EXPECT_GT(child.header.initial_mappings_size(), 0) << "a fork child's address space";
    } else if (mmaps == static_cast<uint64_t>(kExecChildMmaps)) {
      ++exec_image;
      EXPECT_EQ(munmaps, static_cast<uint64_t>(kExecChildMmaps));
      EXPECT_EQ(child.header.metadata().at("started_by"), "exec");
      // Its parent reaped it, not vmrecord; vmrecord's system-call tracer still sees every
      // tracee end. Without the tracer, how it ended is not known, and not made up.
      if (child.header.metadata().at("syscall_tracer") == "on") {
        EXPECT_EQ(child.footer.end().how(), proto::ProcessEnd::HOW_EXITED);
      } else {
        EXPECT_EQ(child.footer.end().how(), proto::ProcessEnd::HOW_UNKNOWN);
      }
      ASSERT_GE(child.header.command_line_size(), 2);
      EXPECT_EQ(child.header.command_line(1), "exec-child");
    } else if (mmaps == 0) {
      ++empty_pre_exec;  // between fork and exec the child makes no mmap calls
      EXPECT_EQ(child.footer.end().how(), proto::ProcessEnd::HOW_EXECED) << name;
      // Forked from "counts", it had not exec'd yet when it was recorded.
      ASSERT_GE(child.header.command_line_size(), 2) << name;
      EXPECT_EQ(child.header.command_line(1), "counts") << name;
    }
  }
  EXPECT_EQ(fork_child, 1);
  EXPECT_EQ(exec_image, 1);
  EXPECT_EQ(empty_pre_exec, 1);
}

TEST_F(VmrecordTest, RecordsExactCountsFromThreadsForkAndExec) { RecordsExactCounts(dir_, {}); }

// One owned ring: every other thread writes to a shared ring under its lock.
TEST_F(VmrecordTest, RecordsExactCountsWithThreadsSharingRings) {
  RecordsExactCounts(dir_, {"--rings", "1"});
}

// The fallback for kernels without membarrier(GLOBAL_EXPEDITED).
TEST_F(VmrecordTest, RecordsExactCountsWithAFencePerRecord) {
  RecordsExactCounts(dir_, {"--fence-per-record"});
}

// One clock read per call: the same calls, in per-thread order, with no latency.
TEST_F(VmrecordTest, RecordsExactCountsWithCoarseTiming) {
  RecordsExactCounts(dir_, {"--timing=coarse"});
  const TraceContents root = ReadTrace(dir_ + "/counts.pb");
  ASSERT_TRUE(root.ok) << root.error;
  EXPECT_EQ(root.header.metadata().at("timing").rfind("coarse", 0), 0u);
  uint64_t hooked = 0;
  for (const Event& e : root.events) {
    if (e.origin != 0) continue;  // the tracer's records keep their latency
    ++hooked;
    EXPECT_EQ(e.latency_ns, 0u) << OpName(e.op);
  }
  EXPECT_GT(hooked, 0u);
}

// Compact: the same calls, timestamps in whole microseconds, latencies rounded to them.
TEST_F(VmrecordTest, RecordsExactCountsWithCompactTiming) {
  RecordsExactCounts(dir_, {"--timing=compact"});
  const TraceContents root = ReadTrace(dir_ + "/counts.pb");
  ASSERT_TRUE(root.ok) << root.error;
  EXPECT_EQ(root.header.metadata().at("timing").rfind("compact", 0), 0u);
  for (const Event& e : root.events) {
    EXPECT_EQ(e.timestamp_ns % 1000, 0u) << OpName(e.op);
    EXPECT_EQ(e.latency_ns % 1000, 0u) << OpName(e.op);
    if (e.origin == 0) {
      EXPECT_EQ(e.latency_ns, 0u) << OpName(e.op);
    }
  }
}

void RecordUntilKilled(const std::string& dir, int n,
                       const std::vector<std::string>& vmrecord_flags) {
  const std::string trace = dir + "/killed.pb";
  const std::string ready = dir + "/ready";
  std::vector<std::string> argv = {VMRECORD_BIN, "-o", trace};
  argv.insert(argv.end(), vmrecord_flags.begin(), vmrecord_flags.end());
  argv.insert(argv.end(), {"--", WORKLOAD_BIN, "sigkill", std::to_string(n), ready});
  const pid_t vmrecord = Spawn(argv);
  ASSERT_GT(vmrecord, 0);
  std::string pid_text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((pid_text = ReadFile(ready)).empty()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "workload never became ready";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const pid_t workload = static_cast<pid_t>(std::stol(pid_text));
  ASSERT_EQ(kill(workload, SIGKILL), 0);
  EXPECT_EQ(Wait(vmrecord), 128 + SIGKILL);

  const TraceContents t = ReadTrace(trace);
  ASSERT_TRUE(t.ok) << t.error;
  uint64_t marked = 0;
  for (const Event& e : t.events) marked += IsMarkedMalloc(e) && e.size < kMarkerBase + n;
  EXPECT_EQ(marked, static_cast<uint64_t>(n));
  EXPECT_EQ(t.op_counts.at(Op::kMmap), static_cast<uint64_t>(n));
  ASSERT_TRUE(t.has_footer);
  EXPECT_EQ(t.footer.dropped_events(), 0u);
  // The trace says how the program ended.
  EXPECT_EQ(t.footer.end().how(), proto::ProcessEnd::HOW_KILLED);
  EXPECT_EQ(t.footer.end().signal(), SIGKILL);
}

// A munmap takes its place in the trace before the call, so a range another thread maps the
// moment it is released is never in the trace as mapped twice. With munmap recorded after the
// call, this workload gave 3 to 29 such pairs in each of 5 runs. The threads write to rings of
// their own, merged by key: this also checks that keys order calls across threads.
void ReleaseIsOrderedBeforeReuse(const std::string& dir_, const std::vector<std::string>& flags) {
  const std::string trace = dir_ + "/reuse.pb";
  std::vector<std::string> argv = {VMRECORD_BIN, "-o", trace};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"--", WORKLOAD_BIN, "reuse-race"});
  ASSERT_EQ(RunCommand(argv, {}, "", dir_ + "/stderr.reuse"), 0);
  EXPECT_EQ(ReadFile(dir_ + "/stderr.reuse").find("warning"), std::string::npos)
      << ReadFile(dir_ + "/stderr.reuse");
  const TraceContents contents = ReadTrace(trace);
  ASSERT_TRUE(contents.ok) << contents.error;
  std::set<uint64_t> mapped;
  uint64_t maps = 0, unmaps = 0;
  for (size_t i = 0; i < contents.events.size(); ++i) {
    const Event& e = contents.events[i];
    if (e.size != kReuseRaceBytes) continue;
    if (e.op == Op::kMmap) {
      ++maps;
      EXPECT_TRUE(mapped.insert(e.result).second) << "event " << i << " maps a mapped range";
    } else if (e.op == Op::kMunmap) {
      ++unmaps;
      EXPECT_EQ(mapped.erase(e.addr), 1u) << "event " << i << " unmaps an unmapped range";
    }
  }
  EXPECT_EQ(maps, static_cast<uint64_t>(kReuseRaceRounds));
  EXPECT_EQ(unmaps, static_cast<uint64_t>(kReuseRaceRounds));
}

TEST_F(VmrecordTest, ReleaseIsOrderedBeforeReuseByAnotherThread) {
  ReleaseIsOrderedBeforeReuse(dir_, {});
}
TEST_F(VmrecordTest, ReleaseIsOrderedBeforeReuseWithAFencePerRecord) {
  ReleaseIsOrderedBeforeReuse(dir_, {"--fence-per-record"});
}
TEST_F(VmrecordTest, ReleaseIsOrderedBeforeReuseOnASharedRing) {
  ReleaseIsOrderedBeforeReuse(dir_, {"--rings", "0"});
}

TEST_F(VmrecordTest, EveryCallBeforeSigkillIsInTheTrace) { RecordUntilKilled(dir_, 5000, {}); }

TEST_F(VmrecordTest, FullRingMakesWritersWaitAndLosesNothing) {
  // A 64 KiB ring holds ~2k records; the workload makes 60k calls before it is killed.
  RecordUntilKilled(dir_, 30000, {"--ring-kb", "64"});
}

// A shell script starts more processes than vmrecord may keep files open: each trace is
// finished once its process is gone (here the shell, not vmrecord, reaps them).
TEST_F(VmrecordTest, ManyShortProcessesUnderALowDescriptorLimit) {
  constexpr int kCommands = 100;  // each a /bin/true image (and a fork child, if not vforked)
  const std::string trace = dir_ + "/shell.pb";
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);  // inherited by vmrecord
  const int rc = RunCommand(
      {VMRECORD_BIN, "-o", trace, "--", "/bin/sh", "-c",
       "i=0; while [ $i -lt " + std::to_string(kCommands) + " ]; do /bin/true; i=$((i+1)); done"},
      {}, "", dir_ + "/shell.stderr");
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_EQ(rc, 0) << ReadFile(dir_ + "/shell.stderr");
  const std::vector<std::string> traces = ListFiles(dir_, "shell.");
  std::vector<std::string> pb;
  for (const std::string& t : traces) {
    if (t.size() > 3 && t.compare(t.size() - 3, 3, ".pb") == 0) pb.push_back(t);
  }
  EXPECT_GE(pb.size(), 1u + kCommands);  // more than the 64 descriptors allowed
  size_t true_images = 0;
  for (const std::string& t : pb) {
    const TraceContents contents = ReadTrace(dir_ + "/" + t);
    ASSERT_TRUE(contents.ok) << t << ": " << contents.error;
    EXPECT_TRUE(contents.has_footer) << t;
    if (contents.header.command_line_size() == 1 &&
        contents.header.command_line(0) == "/bin/true") {
      ++true_images;
    }
  }
  EXPECT_EQ(true_images, static_cast<size_t>(kCommands));
}

TEST_F(VmrecordTest, ExitCodeAndMissingCommand) {
  EXPECT_EQ(RunCommand({VMRECORD_BIN, "-o", dir_ + "/f.pb", "--", "/bin/sh", "-c", "exit 7"}), 7);
  EXPECT_EQ(RunCommand({VMRECORD_BIN, "-o", dir_ + "/m.pb", "--", "/nonexistent/command"}, {}, "",
                       dir_ + "/m.err"),
            127);
  EXPECT_NE(ReadFile(dir_ + "/m.err").find("cannot run"), std::string::npos);
  EXPECT_EQ(RunCommand({VMRECORD_BIN, "-o", dir_ + "/u.pb"}, {}, "", dir_ + "/u.err"), 2);
}

}  // namespace
}  // namespace vmreplay::recorder
