// Threaded replay (--threads=replay): each recorded thread on its own OS thread, in the order the
// trace implies, with the same figures as single-threaded replay wherever order cannot change
// them.
#include "replayer/engine/threaded_replay.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "proto/trace_summary.h"
#include "replayer/managers/passthrough_manager.h"
#include "tests/replayer/replay_test_util.h"

namespace vmreplay::replay {
namespace {

using testing::kLinuxHeader;
using testing::SourceDir;
using testing::WriteTrace;

ReplayMetrics Replay(const std::string& path, bool threaded, bool strict = false) {
  ReplayOptions o;
  testing::SetBackend(&o, "sim");
  o.threaded = threaded;
  o.strict = strict;
  ReplayMetrics m;
  const Status s = ReplayTrace(path, o, &m);
  EXPECT_TRUE(s.ok()) << path << ": " << s.message();
  return m;
}

// `threads` recorded threads share a pool of `addresses` heap pointers: block i is allocated on
// thread i % threads and freed on thread (i + 1) % threads, so every free crosses threads and
// every address is reused many times. Replayed out of order, a free would find no block (or the
// wrong one) and count as untranslatable.
std::string CrossThreadHeapTrace(int threads, int addresses, int blocks) {
  std::ostringstream t;
  t << kLinuxHeader;
  uint64_t ts = 0;
  for (int i = 0; i < blocks; ++i) {
    const uint64_t p = 0x10000000 + 0x100 * static_cast<uint64_t>(i % addresses);
    const int size = 16 * (i % threads + 1);  // tells the test heap which thread made it
    t << "malloc thread=" << 100 + i % threads << " ts=" << ts++ << " lat=1 size=" << size
      << " -> result=0x" << std::hex << p << std::dec << " error=0\n";
    // Free the previous holder of the next address before the allocation that reuses it.
    const int next = i + 1;
    if (next >= addresses) {
      const uint64_t q = 0x10000000 + 0x100 * static_cast<uint64_t>(next % addresses);
      t << "free thread=" << 100 + (next - addresses + 1) % threads << " ts=" << ts++
        << " lat=1 addr=0x" << std::hex << q << std::dec << " ->\n";
    }
  }
  return t.str();
}

TEST(ThreadedReplayTest, CrossThreadFreesRunAfterTheirAllocations) {
  const std::string path = WriteTrace(CrossThreadHeapTrace(4, 16, 20000));
  const ReplayMetrics m = Replay(path, true);
  unlink(path.c_str());
  EXPECT_TRUE(m.threaded);
  EXPECT_EQ(m.recorded_threads, 4u);
  EXPECT_EQ(m.replay_threads, 4u);
  EXPECT_EQ(m.untranslatable, 0u);
  EXPECT_EQ(m.divergences, 0u);
  EXPECT_EQ(m.heap_calls, 20000u + 20000u - 15u);
  EXPECT_EQ(m.replayed, m.heap_calls);
  // 15 blocks stay live at the end, whatever the interleaving.
  uint64_t expected_live = 0;
  for (int i = 20000 - 15; i < 20000; ++i) expected_live += 16 * (i % 4 + 1);
  EXPECT_EQ(m.live_bytes, expected_live);
}

// Records which OS thread made each call, keyed by the size (which names the recorded thread).
class ThreadRecordingHeap final : public HeapBackend {
 public:
  std::string_view name() const override { return "thread-recording"; }
  void* Alloc(size_t size, size_t, uint32_t) override {
    std::lock_guard lock(mu_);
    threads_of_size_[size].insert(std::this_thread::get_id());
    return std::malloc(size);
  }
  void* Realloc(void* p, size_t, size_t size) override { return std::realloc(p, size); }
  void Free(void* p) override { std::free(p); }
  std::optional<uint64_t> Footprint() override { return std::nullopt; }

  std::map<size_t, std::set<std::thread::id>> threads_of_size() {
    std::lock_guard lock(mu_);
    return threads_of_size_;
  }

 private:
  std::mutex mu_;
  std::map<size_t, std::set<std::thread::id>> threads_of_size_;
};

TEST(ThreadedReplayTest, EachRecordedThreadRunsOnOneOsThreadOfItsOwn) {
  const std::string path = WriteTrace(CrossThreadHeapTrace(3, 8, 3000));
  std::unique_ptr<EventSource> source;
  ASSERT_TRUE(OpenTrace(path, &source).ok());
  ReplayOptions o;
  o.threaded = true;
  o.vm.windows = false;
  std::unique_ptr<Platform> vm;
  ASSERT_TRUE(MakePlatform("sim", o.vm, &vm).ok());
  ThreadRecordingHeap heap;
  PassthroughManager manager(ManagerContext{vm.get(), &heap, false, 16ull << 30});
  ReplayMetrics m;
  {
    ReplayEngine engine(&manager, o, source->header(), &m, /*concurrent=*/true);
    ProgressBar progress(false, "");
    ASSERT_TRUE(ReplayThreaded(*source, engine, *vm, o, &m, nullptr, progress).ok());
    engine.Finish();
  }
  unlink(path.c_str());
  const auto by_size = heap.threads_of_size();
  ASSERT_EQ(by_size.size(), 3u);
  std::set<std::thread::id> all;
  for (const auto& [size, ids] : by_size) {
    EXPECT_EQ(ids.size(), 1u) << "recorded thread of size " << size << " ran on several threads";
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(all.count(std::this_thread::get_id()), 0u);
  EXPECT_EQ(m.untranslatable, 0u);
}

TEST(ThreadedReplayTest, MoreRecordedThreadsThanTheCapShareReplayThreads) {
  const std::string path = WriteTrace(CrossThreadHeapTrace(12, 32, 4000));
  ReplayOptions o;
  o.threaded = true;
  o.max_threads = 5;
  ReplayMetrics m;
  ASSERT_TRUE(ReplayTrace(path, o, &m).ok());
  unlink(path.c_str());
  EXPECT_EQ(m.recorded_threads, 12u);
  EXPECT_EQ(m.replay_threads, 5u);
  EXPECT_EQ(m.untranslatable, 0u);
  EXPECT_EQ(m.divergences, 0u);
}

// Every figure that does not depend on how heap calls interleave is the same as in
// single-threaded replay: VM calls run in trace order, so layout-faithful sim replay stays exact.
TEST(ThreadedReplayTest, SameFiguresAsSingleThreadedOnEveryBundledTrace) {
  int traces = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(SourceDir() + "/traces")) {
    if (entry.path().extension() != ".pb") continue;
    const std::string path = entry.path().string();
    SCOPED_TRACE(path);
    ++traces;
    const ReplayMetrics single = Replay(path, false);
    const ReplayMetrics threaded = Replay(path, true);
    TraceSummary summary;
    ASSERT_TRUE(Summarize(path, &summary).ok());
    EXPECT_EQ(threaded.recorded_threads, summary.per_thread.size());
    EXPECT_EQ(threaded.events, single.events);
    EXPECT_EQ(threaded.replayed, single.replayed);
    EXPECT_EQ(threaded.skipped_not_memory, single.skipped_not_memory);
    EXPECT_EQ(threaded.skipped_dependent, single.skipped_dependent);
    EXPECT_EQ(threaded.untranslatable, single.untranslatable);
    EXPECT_EQ(threaded.divergences, single.divergences);
    EXPECT_EQ(threaded.heap_calls, single.heap_calls);
    EXPECT_EQ(threaded.vm.peak_committed_bytes, single.vm.peak_committed_bytes);
    EXPECT_EQ(threaded.vm.peak_committed_event, single.vm.peak_committed_event);
    EXPECT_EQ(threaded.vm.peak_reserved_bytes, single.vm.peak_reserved_bytes);
    EXPECT_EQ(threaded.vm.committed_bytes, single.vm.committed_bytes);
    EXPECT_EQ(threaded.max_fragmentation, single.max_fragmentation);
    EXPECT_EQ(threaded.notifications_low, single.notifications_low);
    EXPECT_EQ(threaded.notifications_high, single.notifications_high);
    EXPECT_EQ(threaded.memory_load_answers, single.memory_load_answers);
    for (int op = 0; op < kOpCount; ++op) {
      EXPECT_EQ(threaded.latency[op].count(), single.latency[op].count()) << op;
    }
  }
  EXPECT_GE(traces, 10);
}

TEST(ThreadedReplayTest, StrictStopsAtADivergence) {
  // Thread 2's calloc succeeded when recorded; its size overflows, so it fails in replay.
  const std::string path = WriteTrace(
      std::string(kLinuxHeader) +
      "malloc thread=1 ts=0 lat=1 size=16 -> result=0x1000 error=0\n"
      "calloc thread=2 ts=1 lat=1 size=9223372036854775809 count=2 -> result=0x2000 error=0\n"
      "free thread=1 ts=2 lat=1 addr=0x1000 ->\n");
  const ReplayMetrics m = Replay(path, true, /*strict=*/true);
  unlink(path.c_str());
  EXPECT_EQ(m.divergences, 1u);
  EXPECT_TRUE(m.stopped_early);
  ASSERT_EQ(m.first_divergences.size(), 1u);
  EXPECT_EQ(m.first_divergences[0].event_index, 1u);
}

}  // namespace
}  // namespace vmreplay::replay
