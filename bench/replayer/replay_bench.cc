// End-to-end replay benchmarks (decode + translate + backend + metrics) of generated CLR-host
// traces (tests/support EventMix kClrHost), each written once to a temporary binary file that is
// removed at exit.
//
// BM_Replay/<backend>: the 1M-event VM-heavy mix whose live set grows with the trace (about 40,000
//   live reservations at the end). Reports events/s.
// BM_Replay10M/<backend>: a 10M-event trace of the same mix with the live set bounded to
//   kBoundedLive reservations and kBoundedLive heap blocks (EventMix::set_max_live), so every
//   backend can hold it. Reports events/s.
// BM_Replay10MServerGc/<backend>: a 10M-event `vmreplay synth --profile=server-gc` trace (the
//   synthetic CLR process: 4 GC heaps, allocation and GC cycles over simulated hours; 45 % VM
//   calls, 52 % IHostMalloc calls). Reports events/s.
// BM_ReplayMemory/<heap>/<events>: the replayer's peak RSS growth while replaying the bounded
//   mix on sim at 1M and 10M events. Streaming replay keeps memory proportional to the
//   live set, not to the trace length, so the two figures should be about the same. Each run
//   is a forked child that trims the heap it inherited (malloc_trim, so free memory that earlier
//   benchmarks left behind is not silently reused), resets VmHWM (write "5" to
//   /proc/self/clear_refs), replays, and reports VmHWM minus its RSS before the replay. The
//   replayed heap blocks are really allocated by the heap backend, so the heap's own footprint,
//   including its fragmentation (which grows with the trace's allocation history, not only with
//   its live set), is part of the figure.
//   replayer_peak_MiB separates the replayer's own memory (decoded chunks, address map, block
//   table, metrics) from the replayed heap's: the peak of glibc's bytes in use (mallinfo2
//   uordblks + hblkhd, sampled every 64Ki events and at the end), which is the replayer alone
//   when the replayed heap lives elsewhere (boost: its own mapping; mimalloc: its own segments).
//   With the system heap the replayed blocks are in glibc too, so that figure is not reported.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "proto/trace_writer.h"
#include "replayer/engine/replay_engine.h"
#include "tests/support/event_mix.h"
#include "traces/synth/synth.h"

namespace vmreplay::replay {
namespace {

constexpr size_t kEvents = 1'000'000;
constexpr size_t kBoundedLive = 10'000;

std::vector<std::string>& TempFiles() {
  static std::vector<std::string> files;
  return files;
}

void RemoveTempFiles() {
  for (const std::string& f : TempFiles()) std::remove(f.c_str());
}

// Writes (once per (events, max_live)) a kClrHost trace and returns its path.
const std::string& TracePath(size_t events, size_t max_live = 0) {
  static std::map<std::pair<size_t, size_t>, std::string> paths;
  auto [it, inserted] = paths.try_emplace({events, max_live});
  if (!inserted) return it->second;
  std::string p = "/tmp/vmreplay_replay_bench_" + std::to_string(getpid()) + "_" +
                  std::to_string(events) + "_" + std::to_string(max_live) + ".pb";
  if (TempFiles().empty()) std::atexit(RemoveTempFiles);
  TempFiles().push_back(p);
  std::unique_ptr<TraceWriter> w;
  proto::Header h;
  h.set_format_major(1);
  h.set_platform(proto::PLATFORM_WINDOWS);
  h.set_page_size(4096);
  h.set_allocation_granularity(65536);
  if (!TraceWriter::Create(p, h, {}, &w).ok()) std::abort();
  testing::EventMix mix(testing::Mix::kClrHost, 1);
  mix.set_max_live(max_live);
  for (size_t i = 0; i < events; ++i) {
    if (!w->Append(mix.Next()).ok()) std::abort();
  }
  if (!w->Finish().ok()) std::abort();
  it->second = std::move(p);
  return it->second;
}

// Writes (once) a 10M-event server-gc synth trace and returns its path.
const std::string& ServerGcTracePath() {
  static const std::string path = [] {
    std::string p = "/tmp/vmreplay_replay_bench_" + std::to_string(getpid()) + "_server_gc.pb";
    if (TempFiles().empty()) std::atexit(RemoveTempFiles);
    TempFiles().push_back(p);
    synth::SynthOptions o;
    o.profile = synth::Profile::kServerGc;
    o.duration_s = 86400;
    o.max_events = 10 * kEvents;
    if (!synth::Synthesize(o, {"bench_replayer"}, p).ok()) std::abort();
    return p;
  }();
  return path;
}

ReplayOptions Options(const char* backend, const char* heap) {
  ReplayOptions o;
  if (!BackendCell(backend, &o.manager, &o.platform).ok()) std::abort();
  if (o.manager == "arena") o.manager = "arena:size=1T";
  o.heap = heap;
  o.vm.placement = "bottom-up";
  return o;
}

void RunReplay(benchmark::State& state, const std::string& path, const ReplayOptions& o) {
  uint64_t events = 0;
  uint64_t divergences = 0;
  for (auto _ : state) {
    ReplayMetrics m;
    const Status s = ReplayTrace(path, o, &m);
    if (!s.ok()) state.SkipWithError(s.message().c_str());
    events += m.events;
    divergences = m.divergences;
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  // A replay that diverges measures the divergence path (message formatting), not the backend.
  state.counters["divergences"] = static_cast<double>(divergences);
}

void BM_Replay(benchmark::State& state, const char* backend, const char* heap) {
  RunReplay(state, TracePath(kEvents), Options(backend, heap));
}

void BM_Replay10M(benchmark::State& state, const char* backend, const char* heap) {
  RunReplay(state, TracePath(10 * kEvents, kBoundedLive), Options(backend, heap));
}

void BM_Replay10MServerGc(benchmark::State& state, const char* backend, const char* heap) {
  RunReplay(state, ServerGcTracePath(), Options(backend, heap));
}

// A "Vm...:" line of /proc/self/status, in bytes (0 if missing).
uint64_t StatusBytes(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(f, line)) {
    if (line.rfind(prefix, 0) == 0)
      return std::strtoull(line.c_str() + prefix.size(), nullptr, 10) << 10;
  }
  return 0;
}

// glibc's heap bytes in use: small chunks plus mmapped ones.
uint64_t GlibcInUse() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// Samples GlibcInUse every 64Ki events; keeps the peak.
class GlibcPeak final : public ReplayObserver {
 public:
  void AfterEvent(const Event&, uint64_t index, Platform&, const ReplayMetrics&) override {
    if ((index & 0xffff) == 0) peak = std::max(peak, GlibcInUse());
  }
  uint64_t peak = 0;
};

struct MemoryFigures {
  uint64_t rss_growth = 0;     // 0: measurement failed
  uint64_t replayer_peak = 0;  // glibc bytes in use at the peak
};

// In a forked child: the replay's peak RSS growth and glibc peak in use.
MemoryFigures MeasureMemory(const std::string& path, const ReplayOptions& o) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid < 0) return {};
  if (pid == 0) {
    close(fds[0]);
    // Give back the free heap memory inherited from the parent (malloc_trim also releases free
    // pages inside the heap), so that memory the replay reuses counts as growth again.
    malloc_trim(0);
    MemoryFigures f;
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5" << std::flush;
    if (clear.good()) {
      const uint64_t before = StatusBytes("VmRSS");
      ReplayMetrics m;
      GlibcPeak glibc;
      if (ReplayTrace(path, o, &m, &glibc).ok()) {
        const uint64_t hwm = StatusBytes("VmHWM");
        f.rss_growth = hwm > before ? hwm - before : 1;
        f.replayer_peak = std::max(glibc.peak, GlibcInUse());
      }
    }
    const ssize_t n = write(fds[1], &f, sizeof f);
    _exit(n == sizeof f ? 0 : 1);
  }
  close(fds[1]);
  MemoryFigures f;
  if (read(fds[0], &f, sizeof f) != sizeof f) f = MemoryFigures{};
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return f;
}

void BM_ReplayMemory(benchmark::State& state, const char* heap) {
  const size_t events = static_cast<size_t>(state.range(0));
  const std::string& path = TracePath(events, kBoundedLive);
  const ReplayOptions o = Options("sim", heap);
  MemoryFigures peak;
  for (auto _ : state) {
    const MemoryFigures f = MeasureMemory(path, o);
    if (f.rss_growth == 0) {
      state.SkipWithError("could not measure (fork or /proc/self/clear_refs failed)");
      break;
    }
    peak.rss_growth = std::max(peak.rss_growth, f.rss_growth);
    peak.replayer_peak = std::max(peak.replayer_peak, f.replayer_peak);
  }
  state.counters["peak_rss_growth_MiB"] = static_cast<double>(peak.rss_growth) / (1 << 20);
  if (std::string(heap) != "system") {
    state.counters["replayer_peak_MiB"] = static_cast<double>(peak.replayer_peak) / (1 << 20);
  }
  state.counters["events"] = static_cast<double>(events);
}

BENCHMARK_CAPTURE(BM_Replay, sim, "sim", "system")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, arena, "arena", "system")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, os, "os", "system")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, sim_boost, "sim", "boost")->Unit(benchmark::kMillisecond);

BENCHMARK_CAPTURE(BM_Replay10M, sim, "sim", "system")->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_Replay10M, arena, "arena", "system")->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_Replay10M, os, "os", "system")->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_Replay10M, sim_boost, "sim", "boost")->Unit(benchmark::kSecond)->Iterations(1);

BENCHMARK_CAPTURE(BM_Replay10MServerGc, sim, "sim", "system")
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Replay10MServerGc, arena, "arena", "system")
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Replay10MServerGc, os, "os", "system")
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Replay10MServerGc, sim_boost, "sim", "boost")
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

BENCHMARK_CAPTURE(BM_ReplayMemory, system, "system")
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ReplayMemory, boost, "boost")
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ReplayMemory, mimalloc, "mimalloc")
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace
}  // namespace vmreplay::replay

BENCHMARK_MAIN();
