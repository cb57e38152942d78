// BM_Replay/<backend>: end-to-end replay (decode + translate + backend + metrics) of a 1M-event
// CLR-host trace (tests/support EventMix kClrHost) written once to a temporary binary file.
// Reports events/s.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <string>

#include "proto/trace_writer.h"
#include "replayer/replay_engine.h"
#include "tests/support/event_mix.h"

namespace vmreplay::replay {
namespace {

constexpr size_t kEvents = 1'000'000;

const std::string& TracePath() {
  static const std::string path = [] {
    std::string p = "/tmp/vmreplay_replay_bench_" + std::to_string(getpid()) + ".pb";
    std::unique_ptr<TraceWriter> w;
    proto::Header h;
    h.set_format_major(1);
    h.set_platform(proto::PLATFORM_WINDOWS);
    h.set_page_size(4096);
    h.set_allocation_granularity(65536);
    if (!TraceWriter::Create(p, h, {}, &w).ok()) std::abort();
    testing::EventMix mix(testing::Mix::kClrHost, 1);
    for (size_t i = 0; i < kEvents; ++i) {
      if (!w->Append(mix.Next()).ok()) std::abort();
    }
    if (!w->Finish().ok()) std::abort();
    return p;
  }();
  return path;
}

void BM_Replay(benchmark::State& state, const char* backend, const char* heap) {
  const std::string& path = TracePath();
  ReplayOptions o;
  o.backend = backend;
  o.heap = heap;
  o.vm.placement = "bottom-up";
  o.vm.arena_size = 1ull << 40;
  uint64_t events = 0;
  for (auto _ : state) {
    ReplayMetrics m;
    const Status s = ReplayTrace(path, o, &m);
    if (!s.ok()) state.SkipWithError(s.message().c_str());
    events += m.events;
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_Replay, sim, "sim", "system")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, arena, "arena", "system")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, os, "os", "system")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, sim_boost, "sim", "boost")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vmreplay::replay

BENCHMARK_MAIN();
