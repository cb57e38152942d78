// The clock the replay engine times each backend call with (the latency metric).
//
// What is measured: the wall time of the backend call alone (VirtualAlloc, malloc, ...), from
// just before the call to just after it, on the calling thread; translation, comparison and
// bookkeeping are outside the interval. Reading the clock twice is included, so every sample
// carries the clock's own cost (a few ns with the TSC, ~20-40 ns with clock_gettime).
//
// On x86-64 the clock is the time-stamp counter (rdtsc, ~8 ns per read against ~20 ns for
// clock_gettime through the vDSO, which was the largest fixed cost per replayed event); ticks are
// converted to nanoseconds with a factor calibrated once per process against steady_clock over
// ~2 ms (error well under 1 %). The TSC is used only when the CPU says it is invariant
// (constant_tsc and nonstop_tsc in /proc/cpuinfo); elsewhere the clock is steady_clock.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace vmreplay::replay {

class OpClock {
 public:
  // Calibrates on first use (process-wide, thread-safe).
  OpClock();

  uint64_t Now() const {
#if defined(__x86_64__)
    if (use_tsc_) return __rdtsc();
#endif
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
  // Nanoseconds between two Now() readings. In 32.32 fixed point: converting through double
  // (unsigned 64-bit to double and back) was a third of the cost of timing a call.
  uint64_t Nanoseconds(uint64_t start, uint64_t end) const {
    if (end <= start) return 0;
    if (!use_tsc_) return end - start;
    __extension__ using Wide = unsigned __int128;  // GCC and Clang: a 64x64->128 multiply
    return static_cast<uint64_t>((static_cast<Wide>(end - start) * ns_per_tick_q32_) >> 32);
  }
  bool uses_tsc() const { return use_tsc_; }

 private:
  bool use_tsc_ = false;
  uint64_t ns_per_tick_q32_ = uint64_t{1} << 32;  // nanoseconds per tick, times 2^32
};

}  // namespace vmreplay::replay
