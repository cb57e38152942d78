// End-to-end replay benchmarks (decode + translate + backend + metrics) of generated CLR-host
// traces (tests/support EventMix kClrHost), each written once to a temporary binary file that is
// removed at exit.
//
// BM_Replay/<backend>: the 1M-event VM-heavy mix whose live set grows with the trace (about 40,000
//   live reservations at the end). Reports events/s.
// BM_Replay10M/<backend>: a 10M-event trace of the same mix with the live set bounded to
//   kBoundedLive reservations and kBoundedLive heap blocks (EventMix::set_max_live), so every
//   backend can hold it. Reports events/s.
// BM_ReplayMemory/<heap>/<events>: the replayer's peak RSS growth while replaying the bounded
//   mix on sim at 1M and 10M events. Streaming replay keeps memory proportional to the
//   live set, not to the trace length, so the two figures should be about the same. Each run
//   is a forked child that trims the heap it inherited (malloc_trim, so free memory that earlier
//   benchmarks left behind is not silently reused), resets VmHWM (write "5" to
//   /proc/self/clear_refs), replays, and reports VmHWM minus its RSS before the replay. The
//   replayed heap blocks are really allocated by the heap backend, so the heap's own footprint,
//   including its fragmentation (which grows with the trace's allocation history, not only with
//   its live set), is part of the figure.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "proto/trace_writer.h"
#include "replayer/replay_engine.h"
#include "tests/support/event_mix.h"

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

ReplayOptions Options(const char* backend, const char* heap) {
  ReplayOptions o;
  o.backend = backend;
  o.heap = heap;
  o.vm.placement = "bottom-up";
  o.vm.arena_size = 1ull << 40;
  return o;
}

void RunReplay(benchmark::State& state, const std::string& path, const ReplayOptions& o) {
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

void BM_Replay(benchmark::State& state, const char* backend, const char* heap) {
  RunReplay(state, TracePath(kEvents), Options(backend, heap));
}

void BM_Replay10M(benchmark::State& state, const char* backend, const char* heap) {
  RunReplay(state, TracePath(10 * kEvents, kBoundedLive), Options(backend, heap));
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

// In a forked child: the replay's peak RSS growth in bytes, or 0 on failure.
uint64_t PeakRssGrowth(const std::string& path, const ReplayOptions& o) {
  int fds[2];
  if (pipe(fds) != 0) return 0;
  const pid_t pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) {
    close(fds[0]);
    // Give back the free heap memory inherited from the parent (malloc_trim also releases free
    // pages inside the heap), so that memory the replay reuses counts as growth again.
    malloc_trim(0);
    uint64_t growth = 0;
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5" << std::flush;
    if (clear.good()) {
      const uint64_t before = StatusBytes("VmRSS");
      ReplayMetrics m;
      if (ReplayTrace(path, o, &m).ok()) {
        const uint64_t hwm = StatusBytes("VmHWM");
        growth = hwm > before ? hwm - before : 1;
      }
    }
    const ssize_t n = write(fds[1], &growth, sizeof growth);
    _exit(n == sizeof growth ? 0 : 1);
  }
  close(fds[1]);
  uint64_t growth = 0;
  if (read(fds[0], &growth, sizeof growth) != sizeof growth) growth = 0;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return growth;
}

void BM_ReplayMemory(benchmark::State& state, const char* heap) {
  const size_t events = static_cast<size_t>(state.range(0));
  const std::string& path = TracePath(events, kBoundedLive);
  const ReplayOptions o = Options("sim", heap);
  uint64_t peak = 0;
  for (auto _ : state) {
    const uint64_t g = PeakRssGrowth(path, o);
    if (g == 0) {
      state.SkipWithError("could not measure (fork or /proc/self/clear_refs failed)");
      break;
    }
    if (g > peak) peak = g;
  }
  state.counters["peak_rss_growth_MiB"] = static_cast<double>(peak) / (1 << 20);
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

}  // namespace
}  // namespace vmreplay::replay

BENCHMARK_MAIN();
