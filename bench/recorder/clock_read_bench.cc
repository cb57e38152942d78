// What one read of each clock the recorder and the replayer could time calls with costs on this
// machine, side by side: the TSC as vmrecord reads it for a call's entry (rdtsc) and for its key
// (lfence; rdtsc, ordered after the call's loads), and CLOCK_MONOTONIC through the vDSO (the
// fallback without an invariant TSC). Two reads per call are the floor under any recorder that
// keeps a latency for every call (bench/recorder/overhead.sh's `clock` row).
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>

namespace {

void BM_ClockRead_Rdtsc(benchmark::State& state) {
  uint64_t sum = 0;
  for (auto _ : state) sum += __rdtsc();
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_ClockRead_Rdtsc);

void BM_ClockRead_LfenceRdtsc(benchmark::State& state) {
  uint64_t sum = 0;
  for (auto _ : state) {
    _mm_lfence();
    sum += __rdtsc();
  }
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_ClockRead_LfenceRdtsc);

}  // namespace
#endif

namespace {

void BM_ClockRead_ClockGettimeMonotonic(benchmark::State& state) {
  timespec ts;
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_ClockRead_ClockGettimeMonotonic);

}  // namespace

BENCHMARK_MAIN();
