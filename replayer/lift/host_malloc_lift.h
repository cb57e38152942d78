// The runtime's malloc family as the IHostMalloc calls of one heap: a CreateMalloc first (as the
// CLR made once, MALLOC_THREADSAFE), then HostAlloc for every allocation (calloc: count * size;
// the aligned family without its alignment, which IHostMalloc cannot express) and HostFree for
// every free. realloc is a HostAlloc and a HostFree, the free first when the block stays where
// it was (so the heap never holds one address twice). All of the process's heap calls are
// lifted: the preload cannot tell the CLR's from the host's or a native library's.
#pragma once

#include <cstdint>
#include <vector>

#include "proto/event.h"
#include "replayer/lift/lift_stats.h"

namespace vmreplay::lift {

class HostMallocLift {
 public:
  // REQUIRES: IsPosixHeapOp(e.op). Appends the host calls `e` stands for to *out.
  void Lift(const Event& e, uint64_t index, LiftStats* stats, std::vector<Event>* out);

 private:
  bool created_ = false;
};

}  // namespace vmreplay::lift
