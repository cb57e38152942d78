// The collector's cost per record, from a record read out of the ring to bytes in the trace
// file: what bounds vmrecord's overhead once the hooks are cheap (bench/recorder/overhead.sh
// measures the whole). The records are those of malloc_workload.c: two threads, each
// allocating and freeing small blocks, arriving in per-thread runs as they do from the ring.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "recorder/linux/trace_demultiplexer.h"

namespace vmreplay::recorder {
namespace {

constexpr uint32_t kPid = 4242;

std::vector<WireRecord> MallocWorkloadRecords(size_t count) {
  std::mt19937_64 rng(7);
  std::vector<WireRecord> records;
  records.reserve(count);
  uint64_t ticks = 1'000'000;
  uint64_t live[2] = {0, 0};
  for (size_t i = 0; records.size() < count; ++i) {
    const uint32_t thread = static_cast<uint32_t>((i / 64) % 2);  // runs of 64 per thread
    WireRecord r{};
    r.pid = kPid;
    r.tid = kPid + thread;
    r.instance = 1;
    ticks += 30 + rng() % 40;
    r.timestamp = ticks;
    r.latency = 15 + rng() % 30;
    if (live[thread] == 0) {
      r.op = kWireMalloc;
      r.size = 16 + rng() % 500;
      r.result = 0x7f0000000000 + (uint64_t{thread} << 32) + (rng() % 4096) * 16;
      live[thread] = r.result;
    } else {
      r.op = kWireFree;
      r.addr = live[thread];
      live[thread] = 0;
    }
    records.push_back(r);
  }
  return records;
}

std::string TracePath() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/vmrecord_bench_" + std::to_string(getpid()) + ".pb";
}

// Arg: zstd level, or -100 for uncompressed chunks.
void BM_CollectorMallocRecords(benchmark::State& state) {
  const std::vector<WireRecord> records = MallocWorkloadRecords(1 << 16);
  CollectorOptions options;
  options.output_path = TracePath();
  options.command = {"malloc_workload"};
  options.compress = state.range(0) != -100;
  options.zstd_level = static_cast<int>(state.range(0));
  ClockConversion clock;
  clock.start_ticks = 1'000'000;
  clock.ns_per_tick = 0.37;
  TraceDemultiplexer demux(options, kPid, clock, 0);
  WireRecord start{};
  start.op = kWireProcessStart;
  start.pid = kPid;
  start.instance = 1;
  demux.Handle(start);
  for (auto _ : state) {
    for (const WireRecord& r : records) demux.Handle(r);
  }
  RecordingResult result;
  if (!demux.Finish(&result).ok()) state.SkipWithError("writing the trace failed");
  FILE* f = std::fopen(options.output_path.c_str(), "rb");
  if (f != nullptr) {
    std::fseek(f, 0, SEEK_END);
    state.counters["bytes_per_event"] =
        static_cast<double>(std::ftell(f)) / static_cast<double>(result.events);
    std::fclose(f);
  }
  std::remove(options.output_path.c_str());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records.size()));
}
BENCHMARK(BM_CollectorMallocRecords)->Arg(1)->Arg(-3)->Arg(-100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vmreplay::recorder

BENCHMARK_MAIN();
