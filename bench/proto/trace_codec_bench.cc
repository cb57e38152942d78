// Trace encode and decode throughput on a 10-million-event trace of realistic CLR-host mix.
// Counters: events/s (items_per_second) and bytes per event.
#include <benchmark/benchmark.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>

#include "proto/binary_trace_reader.h"
#include "proto/trace_writer.h"
#include "tests/support/event_mix.h"

namespace vmreplay {
namespace {

constexpr size_t kEvents = 10'000'000;

const std::vector<Event>& Events() {
  static const std::vector<Event>* events =
      new std::vector<Event>(testing::MakeEvents(testing::Mix::kClrHost, 42, kEvents));
  return *events;
}

std::string TracePath() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/vmreplay_bench_trace.pb";
}

proto::Header BenchHeader() {
  proto::Header h;
  h.set_platform(proto::PLATFORM_SYNTHETIC);
  h.set_page_size(4096);
  h.set_allocation_granularity(65536);
  return h;
}

void WriteAll(const std::string& path, const WriterOptions& options) {
  std::unique_ptr<TraceWriter> writer;
  if (!TraceWriter::Create(path, BenchHeader(), options, &writer).ok()) std::abort();
  for (const Event& e : Events()) {
    if (!writer->Append(e).ok()) std::abort();
  }
  if (!writer->Finish().ok()) std::abort();
}

uint64_t FileSize(const std::string& path) {
  struct stat st {};
  stat(path.c_str(), &st);
  return static_cast<uint64_t>(st.st_size);
}

void BM_Encode(benchmark::State& state) {
  const std::string path = TracePath() + ".encode";
  WriterOptions options;
  options.compress = state.range(0) != 0;
  Events();
  for (auto _ : state) WriteAll(path, options);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kEvents));
  state.counters["bytes_per_event"] =
      static_cast<double>(FileSize(path)) / static_cast<double>(kEvents);
  std::remove(path.c_str());
}
BENCHMARK(BM_Encode)->Arg(1)->Arg(0)->ArgName("zstd")->Unit(benchmark::kMillisecond)->Iterations(1);

void DecodeOnce(const std::string& path, bool per_event, benchmark::State& state) {
  std::unique_ptr<BinaryTraceReader> reader;
  if (!BinaryTraceReader::Open(path, ReaderOptions(), &reader).ok()) std::abort();
  uint64_t n = 0, sum = 0;
  if (per_event) {
    Event e;
    while (reader->Next(&e)) {
      ++n;
      sum += e.addr;
    }
  } else {
    while (const std::vector<Event>* chunk = reader->NextChunk()) {
      n += chunk->size();
      sum += chunk->back().addr;
    }
  }
  if (!reader->status().ok() || n != kEvents) state.SkipWithError("decode failed");
  benchmark::DoNotOptimize(sum);
}

void BM_Decode(benchmark::State& state) {
  const std::string path = TracePath() + (state.range(0) ? ".zstd" : ".raw");
  WriterOptions options;
  options.compress = state.range(0) != 0;
  WriteAll(path, options);
  for (auto _ : state) DecodeOnce(path, state.range(1) != 0, state);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kEvents));
  state.counters["bytes_per_event"] =
      static_cast<double>(FileSize(path)) / static_cast<double>(kEvents);
  std::remove(path.c_str());
}
BENCHMARK(BM_Decode)
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({0, 0})
    ->ArgNames({"zstd", "per_event"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace
}  // namespace vmreplay

BENCHMARK_MAIN();
