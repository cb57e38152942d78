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

class HostHeaps {
 public:
  // Generates the host-heap calls thread `tid` makes during the next `dt_ns` of simulated time.
  void Step(ClrProcess* p, uint64_t tid, uint64_t dt_ns);
  // Loader blocks still live, for tests and for the end-of-run summary.
  size_t live_loader_blocks() const { return loader_live_.size(); }

 private:
  void CompileMethod(ClrProcess* p, uint64_t tid);
  void LoadType(ClrProcess* p, uint64_t tid);
  double carry_ = 0.0;  // fractional methods owed from previous steps
  std::vector<uint64_t> loader_live_;
};

}  // namespace vmreplay::synth
