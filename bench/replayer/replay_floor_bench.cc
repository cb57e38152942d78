// How fast any replay of a trace's heap calls on the system heap could be: the floor under
// `vmreplay TRACE --backend=sim` (whose heap backend is the system allocator), measured on the
// same trace in the same run.
//
//   bench_replay_floor TRACE [benchmark flags]
//
// The trace is read once, before timing, into a flat list of its heap calls, each recorded
// pointer already replaced by a dense block index (no decoding, no address translation, no hash
// table, no divergence checks, no metrics). Then, per benchmark, over the whole list:
//   BM_HeapCallsOnly    malloc/calloc/realloc/free/memalign... on glibc, nothing else;
//   BM_HeapCallsTimed   the same with the latency metric's timing of each call as the replay
//                       engine does it (OpClock twice, LogHistogram::Record);
//   BM_Replay           the real thing: ReplayTrace(TRACE, sim, system heap);
//   BM_ReplayLatencyOff the same with --latency=off (its floor: BM_HeapCallsOnly).
// All report trace events per second (events/s, every event of the trace, the same count the
// replay reports), so the three compare as ratios. VM calls are left out of the two floors,
// which only flatters them.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

#include "proto/event_source.h"
#include "replayer/engine/op_clock.h"
#include "replayer/engine/replay_engine.h"
#include "replayer/metrics/log_histogram.h"

namespace vmreplay::replay {
namespace {

// One heap call of the trace, its pointers as indices into a block array.
struct HeapCall {
  Op op;
  uint32_t block;      // the block it allocates, frees or reallocates
  uint32_t new_block;  // realloc: the block it returns
  uint64_t size;
  uint64_t count_or_alignment;
};

struct FloorTrace {
  std::vector<HeapCall> calls;
  uint64_t events = 0;  // every event of the trace
  uint32_t blocks = 0;
};

std::string g_trace_path;

const FloorTrace& Trace() {
  static const FloorTrace trace = [] {
    FloorTrace t;
    std::unique_ptr<EventSource> source;
    Status s = OpenTrace(g_trace_path, &source);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      std::exit(2);
    }
    std::unordered_map<uint64_t, uint32_t> live;  // recorded pointer -> block index
    std::vector<uint32_t> unused;                 // indices of freed blocks, reused (LIFO)
    auto block_of = [&](uint64_t recorded) {
      uint32_t index;
      if (!unused.empty()) {
        index = unused.back();
        unused.pop_back();
      } else {
        index = t.blocks++;
      }
      live[recorded] = index;
      return index;
    };
    auto release = [&](std::unordered_map<uint64_t, uint32_t>::iterator it) {
      const uint32_t index = it->second;
      unused.push_back(index);
      live.erase(it);
      return index;
    };
    Event e;
    while (source->Next(&e)) {
      ++t.events;
      if (!ReplayEngine::IsHeapCall(e.op) || e.error != 0) continue;
      switch (e.op) {
        case Op::kFree:
        case Op::kHostFree: {
          auto it = live.find(e.addr);
          if (it == live.end()) continue;  // free(NULL), or of memory the trace never allocated
          t.calls.push_back({Op::kFree, release(it), 0, 0, 0});
          break;
        }
        case Op::kRealloc: {
          if (e.result == 0) continue;
          auto it = live.find(e.addr);
          if (it == live.end()) {
            t.calls.push_back({Op::kMalloc, block_of(e.result), 0, e.size, 0});
            break;
          }
          const uint32_t old_block = release(it);
          t.calls.push_back({Op::kRealloc, old_block, block_of(e.result), e.size, 0});
          break;
        }
        default:
          if (e.result == 0) continue;
          if (live.count(e.result) != 0) continue;  // its free was not traced
          const uint64_t extra = e.op == Op::kCalloc ? e.count : e.alignment;
          t.calls.push_back({e.op, block_of(e.result), 0, e.size, extra});
          break;
      }
    }
    if (!source->status().ok()) {
      std::fprintf(stderr, "%s\n", source->status().message().c_str());
      std::exit(2);
    }
    return t;
  }();
  return trace;
}

void* Allocate(const HeapCall& c) {
  switch (c.op) {
    case Op::kCalloc:
      return calloc(c.count_or_alignment, c.size);
    case Op::kPosixMemalign:
    case Op::kAlignedAlloc:
    case Op::kMemalign:
      return memalign(c.count_or_alignment, c.size);
    case Op::kValloc:
    case Op::kPvalloc:
      return memalign(4096, c.size);
    default:
      return malloc(c.size);
  }
}

// Replays the calls on glibc; `time(call)` wraps each one.
template <typename Time>
void RunCalls(const FloorTrace& t, std::vector<void*>& blocks, Time&& time) {
  for (const HeapCall& c : t.calls) {
    switch (c.op) {
      case Op::kFree:
        time(c.op, [&] { free(blocks[c.block]); });
        blocks[c.block] = nullptr;
        break;
      case Op::kRealloc:
        time(c.op, [&] {
          void* p = realloc(blocks[c.block], c.size);
          blocks[c.block] = nullptr;  // the same index when the old one was reused at once
          blocks[c.new_block] = p;
        });
        break;
      default:
        time(c.op, [&] { blocks[c.block] = Allocate(c); });
        break;
    }
  }
  for (void*& p : blocks) {
    free(p);
    p = nullptr;
  }
}

void Report(benchmark::State& state, const FloorTrace& t) {
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(t.events) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["heap_calls"] = static_cast<double>(t.calls.size());
}

void BM_HeapCallsOnly(benchmark::State& state) {
  const FloorTrace& t = Trace();
  std::vector<void*> blocks(t.blocks, nullptr);
  for (auto _ : state) {
    RunCalls(t, blocks, [](Op, auto&& call) { call(); });
  }
  Report(state, t);
}

void BM_HeapCallsTimed(benchmark::State& state) {
  const FloorTrace& t = Trace();
  std::vector<void*> blocks(t.blocks, nullptr);
  const OpClock clock;
  std::vector<LogHistogram> latency(64);
  for (auto _ : state) {
    RunCalls(t, blocks, [&](Op op, auto&& call) {
      const uint64_t start = clock.Now();
      call();
      latency[static_cast<int>(op)].Record(clock.Nanoseconds(start, clock.Now()));
    });
  }
  benchmark::DoNotOptimize(latency.data());
  Report(state, t);
}

void ReplayWith(benchmark::State& state, uint64_t latency_every) {
  const FloorTrace& t = Trace();
  ReplayOptions o;
  o.manager = "passthrough";
  o.platform = "sim";
  o.heap = "system";
  o.latency_every = latency_every;
  for (auto _ : state) {
    ReplayMetrics m;
    const Status s = ReplayTrace(g_trace_path, o, &m);
    if (!s.ok()) state.SkipWithError(s.message().c_str());
  }
  Report(state, t);
}

void BM_Replay(benchmark::State& state) { ReplayWith(state, 1); }
// --latency=off: no call timed, against BM_HeapCallsOnly.
void BM_ReplayLatencyOff(benchmark::State& state) { ReplayWith(state, 0); }

BENCHMARK(BM_HeapCallsOnly)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_HeapCallsTimed)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_Replay)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_ReplayLatencyOff)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace vmreplay::replay

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s TRACE [benchmark flags]\n", argv[0]);
    return 2;
  }
  vmreplay::replay::g_trace_path = argv[1];
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
