// The CLR's IHostMalloc traffic: loader heaps (type and method metadata, long-lived) and the JIT
// (arena pages and scratch blocks that live for one method compilation).
//
// Shape: the JIT compiles many methods at start-up and fewer later (the rate decays
// exponentially to a steady trickle); every compilation takes one to three 64 KiB arena pages
// plus a handful of small blocks, all freed when it ends. Type loads come with the first calls
// of methods and allocate small long-lived blocks (log-normal sizes, median ~100 bytes), a few
// of which are freed later (collectible assemblies, unloads). Blocks allocated while holding the
// loader lock use eAppDomainCritical; DebugAlloc carries the CLR source file and line.
#pragma once

#include <cstdint>
#include <vector>

#include "traces/synth/clr_process.h"

namespace vmreplay::synth {

// The rates and sizes of HostHeaps; the defaults are the .NET Framework host's above.
struct HostHeapShape {
  double burst_methods_per_s = 1500.0;  // at start-up, decaying with burst_time_constant_s
  double burst_time_constant_s = 2.0;
  double steady_methods_per_s = 15.0;
  uint64_t arena_pages_min = 1;  // 64 KiB JIT arena pages per compilation
  uint64_t arena_pages_max = 3;
  double blocks_mean = 6.0;  // scratch blocks per compilation beyond 2
  double block_median = 48.0;
  double block_sigma = 1.1;
  double debug_alloc_share = 0.3;  // blocks allocated with DebugAlloc
  bool loader_lock_level = true;   // loader blocks at eAppDomainCritical
  uint64_t loader_blocks_max = 0;  // SynthOptions::loader_blocks_max
};

class HostHeaps {
 public:
  HostHeaps() = default;
  explicit HostHeaps(const HostHeapShape& shape) : shape_(shape) {}

  // Generates the host-heap calls thread `tid` makes during the next `dt_ns` of simulated time.
  void Step(ClrProcess* p, uint64_t tid, uint64_t dt_ns);
  // Loader blocks still live, for tests and for the end-of-run summary.
  size_t live_loader_blocks() const { return loader_live_.size(); }
  // Methods compiled so far.
  uint64_t methods() const { return methods_; }

 private:
  void CompileMethod(ClrProcess* p, uint64_t tid);
  void LoadType(ClrProcess* p, uint64_t tid);
  HostHeapShape shape_;
  double carry_ = 0.0;  // fractional methods owed from previous steps
  uint64_t methods_ = 0;
  std::vector<uint64_t> loader_live_;
};

}  // namespace vmreplay::synth
