// The collector's cost per record, from records in the threads' rings to bytes in the trace
// file: merging the rings (RecordMerger), decoding, demultiplexing and encoding
// (TraceDemultiplexer). This bounds vmrecord's overhead once the hooks are cheap: on a machine
// whose cores the recorded program keeps busy, the collector's CPU time adds to the wall time
// (bench/recorder/overhead.sh measures the whole).
//
// The records are those of malloc_workload.c: two threads, each allocating and freeing small
// blocks, their calls interleaving finely as the merge by key makes them.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "recorder/linux/record_merger.h"
#include "recorder/linux/ring_directory.h"
#include "recorder/linux/trace_demultiplexer.h"

namespace vmreplay::recorder {
namespace {

constexpr uint32_t kPid = 4242;
constexpr uint64_t kRingWords = uint64_t{1} << 18;  // 2 MiB, vmrecord's default
constexpr size_t kRecordsPerThread = 40000;         // fits one ring

// A session segment in ordinary memory, with two owned rings written as the preload would.
class Rings {
 public:
  Rings() {
    bytes_ = RingDirectory::SegmentBytesFor(2, 1, kRingWords);
    memory_.reset(static_cast<unsigned char*>(std::aligned_alloc(4096, bytes_)));
    std::fill(memory_.get(), memory_.get() + bytes_, 0);
    session_ = new (memory_.get()) SessionHeader();
    RingDirectory::Format(session_, bytes_, 2, 1, kRingWords);
    directory_.Attach(session_, bytes_);
    for (uint32_t t = 0; t < 2; ++t) directory_.Claim(kPid, kPid + t);
  }

  // Writes each thread's records of one round of malloc_workload: a writer record, then
  // malloc/free pairs with keys that interleave the two threads. The words are made once and
  // copied in, so that filling costs little next to what is measured.
  void Fill(uint64_t* key_clock) {
    if (words_[0].empty()) MakeWords();
    for (uint32_t t = 0; t < 2; ++t) {
      const RingView ring = directory_.Ring(t);
      uint64_t head = ring.header->head.load(std::memory_order_relaxed);
      const std::vector<uint64_t>& words = words_[t];
      for (size_t k = 0; k < words.size(); ++k) {
        // Keys (every record's first word, marked by its offset) move on by a round.
        ring.Put(head + k, is_key_[t][k] ? words[k] + *key_clock : words[k]);
      }
      ring.header->last_key.store(*key_clock + last_key_[t], std::memory_order_relaxed);
      ring.header->head.store(head + words.size(), std::memory_order_release);
    }
    *key_clock += kRecordsPerThread * 80;
  }

 private:
  void MakeWords() {
    std::mt19937_64 rng(7);
    for (uint32_t t = 0; t < 2; ++t) {
      std::vector<uint64_t> words(kRecordsPerThread * 5);
      std::vector<bool> is_key(words.size());
      RingView scratch{nullptr, words.data(), (uint64_t{1} << 40) - 1};
      uint64_t at = 0;
      auto put = [&](uint64_t key, uint8_t op, uint64_t latency, const uint64_t* p, unsigned n) {
        is_key[at] = true;
        at += PutRecord(scratch, at, key, op, 0, latency, p, n);
      };
      const uint64_t identity = uint64_t{1} << 32 | (kPid + t);
      const uint64_t writer[2] = {identity, kPid};
      put(0, kWireWriter, 0, writer, 2);
      uint64_t key = t * 17;
      uint64_t live = 0;
      for (size_t i = 0; i < kRecordsPerThread; ++i) {
        key += 30 + rng() % 40;
        if (live == 0) {
          live = 0x7f0000000000 + (uint64_t{t} << 32) + (rng() % 4096) * 16;
          const uint64_t payload[2] = {16 + rng() % 4096, live};
          put(key, kWireMalloc, 15 + rng() % 30, payload, 2);
        } else {
          const uint64_t payload[1] = {live};
          put(key, kWireFree, 15 + rng() % 30, payload, 1);
          live = 0;
        }
      }
      words.resize(at);
      is_key.resize(at);
      words_[t] = std::move(words);
      is_key_[t] = std::move(is_key);
      last_key_[t] = key;
    }
  }

 public:
  const RingDirectory& directory() const { return directory_; }

 private:
  struct Free {
    void operator()(unsigned char* p) const { std::free(p); }
  };
  size_t bytes_ = 0;
  std::unique_ptr<unsigned char, Free> memory_;
  SessionHeader* session_ = nullptr;
  RingDirectory directory_;
  std::vector<uint64_t> words_[2];
  std::vector<bool> is_key_[2];
  uint64_t last_key_[2] = {};
};

std::string TracePath() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/vmrecord_bench_" + std::to_string(getpid()) + ".pb";
}

// Arg: zstd level, or -100 for uncompressed chunks.
void BM_CollectorMergeAndWrite(benchmark::State& state) {
  Rings rings;
  CollectorOptions options;
  options.output_path = TracePath();
  options.command = {"malloc_workload"};
  options.compress = state.range(0) != -100;
  options.zstd_level = static_cast<int>(state.range(0));
  TraceDemultiplexer demux(options, kPid, 0);
  demux.SetClock(ClockConversion{.start_ticks = 0, .ns_per_tick = 0.37});
  // Keys far in the past of the real clock, so that every round's watermark passes them all.
  RecordMerger merger(rings.directory(), {.use_tsc = false, .membarrier = false});
  uint64_t key_clock = 1000;
  uint64_t records = 0;
  for (auto _ : state) {
    state.PauseTiming();
    rings.Fill(&key_clock);
    state.ResumeTiming();
    records += merger.Round([&](const CallRecord& r) { demux.Handle(r); }).emitted;
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
  state.SetItemsProcessed(static_cast<int64_t>(records));
}
BENCHMARK(BM_CollectorMergeAndWrite)
    ->Arg(1)
    ->Arg(-1)
    ->Arg(-3)
    ->Arg(-7)
    ->Arg(-100)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vmreplay::recorder

BENCHMARK_MAIN();
