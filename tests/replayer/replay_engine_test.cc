#include "replayer/engine/replay_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "proto/trace_writer.h"
#include "tests/replayer/replay_test_util.h"

namespace vmreplay::replay {
namespace {

using testing::kLinuxHeader;
using testing::kWindowsHeader;
using testing::WriteTrace;

// Reserve 1 MiB, commit 64 KiB then 128 KiB, decommit the first 64 KiB, release.
const std::string kWin32Trace =
    std::string(kWindowsHeader) +
    "VirtualAlloc thread=1 ts=0 lat=0 addr=0x0 size=1048576 flags=0x2000 protect=0x1 level=0 -> "
    "result=0x10000000 hresult=0x0 error=0\n"
    "VirtualAlloc thread=1 ts=1 lat=0 addr=0x10000000 size=65536 flags=0x1000 protect=0x4 "
    "level=0 -> result=0x10000000 hresult=0x0 error=0\n"
    "VirtualAlloc thread=1 ts=2 lat=0 addr=0x10010000 size=131072 flags=0x1000 protect=0x4 "
    "level=0 -> result=0x10010000 hresult=0x0 error=0\n"
    "GetMemoryLoad thread=1 ts=3 lat=0 -> hresult=0x0 load=5 avail=100\n"
    "VirtualFree thread=1 ts=4 lat=0 addr=0x10000000 size=65536 flags=0x4000 -> hresult=0x0 "
    "error=0\n"
    "VirtualQuery thread=1 ts=5 lat=0 addr=0x10010010 size=48 -> result=0x30 hresult=0x0 error=0 "
    "q_base=0x10010000 q_alloc_base=0x10000000 q_alloc_protect=0x1 q_region_size=131072 "
    "q_state=0x1000 q_protect=0x4 q_type=0x20000\n"
    "RegisterMemoryNotificationCallback thread=1 ts=6 lat=0 addr=0x1234 -> hresult=0x0\n"
    "VirtualFree thread=1 ts=7 lat=0 addr=0x10000000 size=0 flags=0x8000 -> hresult=0x0 "
    "error=0\n";

ReplayMetrics Replay(const std::string& text, const std::string& backend,
                     const std::string& heap = "system", std::string placement = "faithful") {
  ReplayOptions o;
  testing::SetBackend(&o, backend);
  o.heap = heap;
  o.vm.placement = placement;
  if (o.manager == "arena") o.manager = "arena:size=1G";
  o.heap_options.capacity = 64ull << 20;
  ReplayMetrics m;
  const std::string path = WriteTrace(text);
  const Status s = ReplayTrace(path, o, &m);
  EXPECT_TRUE(s.ok()) << backend << "/" << heap << ": " << s.message();
  unlink(path.c_str());
  return m;
}

TEST(ReplayEngineTest, SimExactMetricsOnHandMadeTrace) {
  const ReplayMetrics m = Replay(kWin32Trace, "sim");
  EXPECT_EQ(m.events, 8u);
  EXPECT_EQ(m.divergences, 0u) << (m.first_divergences.empty() ? "" : m.first_divergences[0].what);
  EXPECT_EQ(m.skipped_not_memory, 1u);
  EXPECT_EQ(m.vm.peak_committed_bytes, 196608u);
  EXPECT_EQ(m.vm.peak_committed_event, 2u);
  EXPECT_EQ(m.vm.peak_reserved_bytes, 1048576u);
  EXPECT_EQ(m.vm.peak_reserved_event, 0u);
  EXPECT_EQ(m.vm.committed_bytes, 0u);
  EXPECT_EQ(m.memory_load_answers, 1u);
  // 1 MiB physical: 192 KiB committed is 18 %.
  EXPECT_EQ(m.max_memory_load, 18u);
  ASSERT_TRUE(m.vm.fragmentation);
  EXPECT_DOUBLE_EQ(*m.vm.fragmentation, 0.0);  // Everything released: one free block.
  ASSERT_TRUE(m.max_fragmentation);
  EXPECT_GT(*m.max_fragmentation, 0.0);  // The reservation split the free space.
  EXPECT_EQ(m.latency[static_cast<int>(Op::kVirtualAlloc)].count(), 3u);
}

TEST(ReplayEngineTest, RealBackendsReplayHandMadeTrace) {
  for (const char* backend : {"os", "arena"}) {
    const ReplayMetrics m = Replay(kWin32Trace, backend);
    EXPECT_EQ(m.divergences, 0u) << backend;
    EXPECT_EQ(m.vm.peak_committed_bytes, 196608u) << backend;
    EXPECT_EQ(m.vm.peak_committed_event, 2u) << backend;
    const bool arena = std::string(backend) == "arena";
    // The platform sees the arena's own reservation, made up front, not the CLR's.
    EXPECT_EQ(m.vm.peak_reserved_bytes, arena ? 1ull << 30 : 1048576u) << backend;
    // 2 commits + decommit (madvise + mprotect); the arena's release is madvise + mprotect too.
    EXPECT_EQ(m.vm.syscalls.at("mprotect"), arena ? 4u : 3u) << backend;
    EXPECT_EQ(m.vm.syscalls.at("madvise"), arena ? 2u : 1u) << backend;
    ASSERT_TRUE(m.vm.rss_high_water_bytes) << backend;
  }
  const ReplayMetrics os = Replay(kWin32Trace, "os");
  EXPECT_GE(os.vm.syscalls.at("mmap"), 1u);
  const ReplayMetrics arena = Replay(kWin32Trace, "arena");
  EXPECT_EQ(arena.vm.syscalls.at("mmap"), 1u);  // The arena itself, no mmap per reservation.
  EXPECT_EQ(arena.vm.calls.at("VirtualAlloc reserve"), 1u);
  EXPECT_EQ(arena.vm.calls.count("VirtualFree release"), 0u);  // Released inside the arena.
  EXPECT_LE(arena.vm.syscalls.count("munmap"), 2u);  // Only trims aligning the arena itself.
}

TEST(ReplayEngineTest, RecordedFailureThatSucceedsIsADivergence) {
  const std::string text =
      std::string(kWindowsHeader) +
      "VirtualAlloc thread=1 ts=0 lat=0 addr=0x0 size=65536 flags=0x2000 protect=0x4 level=0 -> "
      "result=0x0 hresult=0x0 error=8\n"
      "VirtualAlloc thread=1 ts=1 lat=0 addr=0x20000000 size=4096 flags=0x1000 protect=0x4 "
      "level=0 -> result=0x0 hresult=0x0 error=487\n";
  for (const char* backend : {"sim", "os", "arena"}) {
    const ReplayMetrics m = Replay(text, backend);
    EXPECT_EQ(m.divergences, 1u) << backend;
    ASSERT_EQ(m.first_divergences.size(), 1u);
    EXPECT_EQ(m.first_divergences[0].event_index, 0u);
    EXPECT_EQ(m.vm.committed_bytes, 0u);
    // The unrecorded reservation is given back (the arena keeps only itself).
    EXPECT_EQ(m.vm.reserved_bytes, std::string(backend) == "arena" ? 1ull << 30 : 0u) << backend;
  }
}

TEST(ReplayEngineTest, DependentCallsAreSkipped) {
  // A 2 GiB reservation fails in a 32-bit 2 GiB address space; the commit into it is skipped.
  const std::string text =
      std::string(kWindowsHeader) +
      "VirtualAlloc thread=1 ts=0 lat=0 addr=0x0 size=2147483648 flags=0x2000 protect=0x4 "
      "level=0 -> result=0x100000000 hresult=0x0 error=0\n"
      "VirtualAlloc thread=1 ts=1 lat=0 addr=0x100000000 size=4096 flags=0x1000 protect=0x4 "
      "level=0 -> result=0x100000000 hresult=0x0 error=0\n"
      "VirtualFree thread=1 ts=2 lat=0 addr=0x100000000 size=0 flags=0x8000 -> hresult=0x0 "
      "error=0\n";
  ReplayOptions o;
  testing::SetBackend(&o, "sim");
  o.vm.address_space = "32-2g";
  ReplayMetrics m;
  const std::string path = WriteTrace(text);
  ASSERT_TRUE(ReplayTrace(path, o, &m).ok());
  EXPECT_EQ(m.divergences, 1u);
  EXPECT_EQ(m.skipped_dependent, 2u);
}

TEST(ReplayEngineTest, StrictStopsAtFirstDivergence) {
  const std::string text =
      std::string(kWindowsHeader) +
      "VirtualAlloc thread=1 ts=0 lat=0 addr=0x0 size=65536 flags=0x2000 protect=0x4 level=0 -> "
      "result=0x0 hresult=0x0 error=8\n"
      "VirtualAlloc thread=1 ts=0 lat=0 addr=0x0 size=65536 flags=0x2000 protect=0x4 level=0 -> "
      "result=0x0 hresult=0x0 error=8\n";
  ReplayOptions o;
  o.strict = true;
  ReplayMetrics m;
  ASSERT_TRUE(ReplayTrace(WriteTrace(text), o, &m).ok());
  EXPECT_TRUE(m.stopped_early);
  EXPECT_EQ(m.events, 1u);
}

// Linux mapping: 1 MiB RW, partial munmap of the upper half, mprotect of one page.
const std::string kLinuxTrace =
    std::string(kLinuxHeader) +
    "mmap thread=1 ts=0 lat=0 addr=0x0 size=1048576 flags=0x22 protect=0x3 fd=-1 offset=0 -> "
    "result=0x7f0000000000 error=0\n"
    "munmap thread=1 ts=1 lat=0 addr=0x7f0000080000 size=524288 -> error=0\n"
    "mprotect thread=1 ts=2 lat=0 addr=0x7f0000000000 size=4096 protect=0x1 -> error=0\n"
    "madvise thread=1 ts=3 lat=0 addr=0x7f0000001000 size=8192 flags=0x4 -> error=0\n"
    "malloc thread=1 ts=4 lat=0 size=100 -> result=0x1000 error=0\n"
    "malloc thread=1 ts=5 lat=0 size=200 -> result=0x2000 error=0\n"
    "free thread=1 ts=6 lat=0 addr=0x1000\n"
    "realloc thread=1 ts=7 lat=0 addr=0x2000 size=1000 -> result=0x3000 error=0\n"
    "free thread=1 ts=8 lat=0 addr=0x3000\n";

TEST(ReplayEngineTest, LinuxTraceOnEveryVmBackend) {
  for (const char* backend : {"sim", "os", "arena"}) {
    const ReplayMetrics m = Replay(kLinuxTrace, backend);
    EXPECT_EQ(m.divergences, 0u) << backend << " "
                                 << (m.first_divergences.empty() ? ""
                                                                 : m.first_divergences[0].what);
    EXPECT_EQ(m.vm.peak_committed_bytes, 1048576u) << backend;
    EXPECT_EQ(m.vm.peak_committed_event, 0u) << backend;
    // 512 KiB mapped, the advised 2 pages no longer committed.
    EXPECT_EQ(m.vm.committed_bytes, 524288u - 8192u) << backend;
    EXPECT_EQ(m.peak_live_bytes, 1000u) << backend;
    EXPECT_EQ(m.peak_live_event, 7u) << backend;
    EXPECT_EQ(m.live_bytes, 0u) << backend;
  }
}

TEST(ReplayEngineTest, HeapBackends) {
  for (const auto& info : HeapBackends()) {
    if (!info.available) continue;
#if defined(__SANITIZE_ADDRESS__)
    if (info.name != "system" && info.name != "boost") continue;  // dlopen'd allocators vs ASan
#endif
    std::unique_ptr<HeapBackend> probe;
    if (const Status s = MakeHeapBackend(info.name, {}, &probe); !s.ok()) {
      // Debian's jemalloc uses initial-exec TLS and cannot be dlopen'd: a reported limitation.
      EXPECT_EQ(info.name, "jemalloc") << s.message();
      continue;
    }
    const ReplayMetrics m = Replay(kLinuxTrace, "sim", std::string(info.name));
    EXPECT_EQ(m.heap, info.name);
    EXPECT_EQ(m.divergences, 0u) << info.name;
    EXPECT_EQ(m.heap_calls, 5u) << info.name;
    EXPECT_EQ(m.peak_live_bytes, 1000u) << info.name;
    if (info.name == "boost") {
      ASSERT_TRUE(m.footprint_at_live_peak);
      EXPECT_GE(*m.footprint_at_live_peak, 1000u);
      ASSERT_TRUE(m.johnstone_wilson_4());
      EXPECT_GE(*m.johnstone_wilson_4(), 0.0);
    }
  }
}

// A binary trace with more blocks live than the heap table keeps in cache: replay then prefetches
// each block some events ahead (event_pump.h). A hint must not change a figure: the same trace
// replayed threaded (no hints) and with the read-ahead thread agrees on every count.
TEST(ReplayEngineTest, LargeLiveHeapReplaysTheSameWithAndWithoutHints) {
  const std::string path = WriteTrace("");  // a fresh temporary name
  {
    proto::Header h;
    h.set_format_major(1);
    h.set_platform(proto::PLATFORM_LINUX);
    h.set_page_size(4096);
    h.set_allocation_granularity(4096);
    std::unique_ptr<TraceWriter> w;
    ASSERT_TRUE(TraceWriter::Create(path, h, {}, &w).ok());
    std::mt19937_64 rng(3);
    std::vector<uint64_t> live;
    uint64_t ts = 0;
    auto malloc_at = [&](uint64_t address, uint64_t size) {
      Event e;
      e.op = Op::kMalloc;
      e.thread = 1 + address % 3;
      e.timestamp_ns = ts++;
      e.size = size;
      e.result = address;
      ASSERT_TRUE(w->Append(e).ok());
      live.push_back(address);
    };
    for (uint64_t i = 0; i < 60000; ++i) malloc_at(0x10000000 + i * 64, 16 + i % 48);
    std::shuffle(live.begin(), live.end(), rng);
    for (int round = 0; round < 60000; ++round) {  // free a random block, reuse its address
      const size_t at = rng() % live.size();
      const uint64_t address = live[at];
      live[at] = live.back();
      live.pop_back();
      Event f;
      f.op = Op::kFree;
      f.thread = 1 + address % 3;
      f.timestamp_ns = ts++;
      f.addr = address;
      ASSERT_TRUE(w->Append(f).ok());
      if (round % 2 == 0) malloc_at(address, 32);
    }
    ASSERT_TRUE(w->Finish().ok());
  }
  auto replay = [&](bool threaded, ReadAhead read_ahead) {
    ReplayOptions o;
    testing::SetBackend(&o, "sim");
    o.threaded = threaded;
    o.read_ahead = read_ahead;
    ReplayMetrics m;
    const Status s = ReplayTrace(path, o, &m);
    EXPECT_TRUE(s.ok()) << s.message();
    return m;
  };
  const ReplayMetrics hinted = replay(false, ReadAhead::kOff);
  EXPECT_EQ(hinted.divergences, 0u);
  EXPECT_EQ(hinted.untranslatable, 0u);
  EXPECT_EQ(hinted.skipped_dependent, 0u);
  EXPECT_EQ(hinted.heap_calls, 150000u);
  for (bool threaded : {false, true}) {
    SCOPED_TRACE(threaded ? "threaded" : "read ahead");
    const ReplayMetrics other = replay(threaded, threaded ? ReadAhead::kOff : ReadAhead::kOn);
    EXPECT_EQ(other.heap_calls, hinted.heap_calls);
    EXPECT_EQ(other.replayed, hinted.replayed);
    // Threads replay their calls concurrently, so the moment live bytes peak is theirs to pick.
    if (!threaded) {
      EXPECT_EQ(other.peak_live_bytes, hinted.peak_live_bytes);
    }
    EXPECT_EQ(other.live_bytes, hinted.live_bytes);
    EXPECT_EQ(other.divergences, 0u);
  }
  unlink(path.c_str());
}

TEST(ReplayEngineTest, BoostHeapFailsBeyondCapacity) {
  const std::string text = std::string(kLinuxHeader) +
                           "malloc thread=1 ts=0 lat=0 size=134217728 -> result=0x1000 error=0\n";
  const ReplayMetrics m = Replay(text, "sim", "boost");  // Capacity 64 MiB in Run.
  EXPECT_EQ(m.divergences, 1u);
}

TEST(ReplayEngineTest, WineTraceOnlyKnownWineDeviations) {
  ReplayOptions o;
  ReplayMetrics m;
  o.max_divergences_kept = 1000;
  const Status s = ReplayTrace(testing::SourceDir() + "/traces/wine/random_seed1.txt", o, &m);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(m.events, 3086u);
  EXPECT_EQ(m.vm.placement_fallbacks, 0u);
  // Every divergence is one of tests/wine/wine_deviations.cc's documented Wine behaviours:
  // ERROR_INVALID_PARAMETER vs the simulator's (Windows') ERROR_INVALID_ADDRESS and the reverse
  // for MEM_RESET combinations, or Wine's split of reserved regions in VirtualQuery.
  for (const Divergence& d : m.first_divergences) {
    const bool error_code = d.what == "recorded error 87, replay error 487" ||
                            d.what == "recorded error 487, replay error 87";
    const bool query_split =
        d.op == Op::kVirtualQuery && d.what.find("state 0x2000") != std::string::npos;
    EXPECT_TRUE(error_code || query_split) << "#" << d.event_index << " " << d.what;
  }
  ASSERT_EQ(m.divergences, m.first_divergences.size());
}

TEST(ReplayEngineTest, BadTraceIsAnError) {
  ReplayOptions o;
  ReplayMetrics m;
  const std::string path = WriteTrace("this is not a trace\n");
  const Status s = ReplayTrace(path, o, &m);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
}

TEST(ReplayEngineTest, UnknownBackendIsAnError) {
  ReplayOptions o;
  testing::SetBackend(&o, "nope");
  ReplayMetrics m;
  EXPECT_FALSE(ReplayTrace(WriteTrace(kWin32Trace), o, &m).ok());
}

}  // namespace
}  // namespace vmreplay::replay

namespace vmreplay::replay {
namespace {

TEST(ReplayEngineTest, LatencySamplingTimesAboutOneCallInNAndChangesNothingElse) {
  const std::string trace = testing::SourceDir() + "/traces/synth/server-gc.pb";
  auto replay = [&](uint64_t every) {
    ReplayOptions o;
    o.latency_every = every;
    ReplayMetrics m;
    EXPECT_TRUE(ReplayTrace(trace, o, &m).ok());
    return m;
  };
  const ReplayMetrics all = replay(1), sampled = replay(16), off = replay(0);
  uint64_t timed_all = 0, timed_sampled = 0, timed_off = 0;
  for (int op = 0; op < kOpCount; ++op) {
    timed_all += all.latency[op].count();
    timed_sampled += sampled.latency[op].count();
    timed_off += off.latency[op].count();
  }
  EXPECT_EQ(timed_all, all.replayed);
  EXPECT_EQ(timed_off, 0u);
  // About one in 16 (binomial-like spread: well within 10 % on 150,000 calls).
  EXPECT_NEAR(static_cast<double>(timed_sampled), timed_all / 16.0, timed_all / 160.0);
  // Every operation is still seen (random gaps: no alternation of calls aliases with them).
  for (int op = 0; op < kOpCount; ++op) {
    if (all.latency[op].count() >= 1000) {
      EXPECT_GT(sampled.latency[op].count(), 0u) << op;
    }
  }
  for (const ReplayMetrics* m : {&sampled, &off}) {
    EXPECT_EQ(m->divergences, all.divergences);
    EXPECT_EQ(m->vm.peak_committed_bytes, all.vm.peak_committed_bytes);
    EXPECT_EQ(m->peak_live_bytes, all.peak_live_bytes);
  }
  uint64_t every = 0;
  EXPECT_TRUE(ParseLatency("sample:100", &every).ok());
  EXPECT_EQ(every, 100u);
  EXPECT_FALSE(ParseLatency("sample:1", &every).ok());
  EXPECT_FALSE(ParseLatency("sample:", &every).ok());
  EXPECT_FALSE(ParseLatency("some", &every).ok());
}

}  // namespace
}  // namespace vmreplay::replay

namespace vmreplay::replay {
namespace {

// free(NULL) is a no-op by definition and counted as such, never silently left out: on this
// trace every event is then replayed or skipped for a stated reason.
TEST(ReplayEngineTest, FreeOfNullIsCountedSoEveryEventIsAccountedFor) {
  const std::string trace = std::string(testing::kLinuxHeader) +
                            "malloc thread=1 ts=0 lat=0 size=64 -> result=0x1000 error=0\n"
                            "free thread=1 ts=1 lat=0 addr=0x0 ->\n"
                            "free thread=1 ts=2 lat=0 addr=0x1000 ->\n"
                            "free thread=1 ts=3 lat=0 addr=0x0 ->\n";
  for (const char* backend : {"sim", "os"}) {
    const ReplayMetrics m = Replay(trace, backend);
    EXPECT_EQ(m.events, 4u) << backend;
    EXPECT_EQ(m.skipped_null_free, 2u) << backend;
    EXPECT_EQ(m.replayed + m.skipped_null_free + m.skipped_not_memory + m.skipped_dependent +
                  m.untranslatable,
              m.events)
        << backend;
  }
}

}  // namespace
}  // namespace vmreplay::replay
