// One pass of the lift over a Linux recording of a .NET process: every recorded event in, the
// IHostMemoryManager / IHostMalloc calls it stands for out (vm_lift.h for the virtual memory,
// host_malloc_lift.h for the heap).
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "proto/event.h"
#include "replayer/lift/host_malloc_lift.h"
#include "replayer/lift/lift_stats.h"
#include "replayer/lift/vm_lift.h"

namespace vmreplay::lift {

class ClrLifter {
 public:
  ClrLifter(const sim::AddressSpaceConfig& config, std::set<uint64_t> pools)
      : vm_(config, std::move(pools), &stats_) {}

  // REQUIRES: e is a Linux call (IsPosixVirtualOp or IsPosixHeapOp). Appends the host calls
  // completed by recorded event `index` to *out.
  void Lift(const Event& e, uint64_t index, std::vector<Event>* out);
  // Completes what is still open at the end of the trace.
  void Finish(std::vector<Event>* out) { vm_.Finish(out); }

  LiftStats& stats() { return stats_; }
  const VmLift& vm() const { return vm_; }

 private:
  LiftStats stats_;
  VmLift vm_;
  HostMallocLift heap_;
};

}  // namespace vmreplay::lift
