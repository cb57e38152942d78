#include "replayer/lift/host_malloc_lift.h"

#include "replayer/lift/host_call.h"
#include "replayer/lift/runtime_abi.h"

namespace vmreplay::lift {
namespace {

Event Base(const Event& e, Op op) {
  Event out = HostCallAt(e, op);
  out.heap = kLiftedHeapId;
  return out;
}

Event HostAlloc(const Event& e, uint64_t size, uint64_t result) {
  Event out = Base(e, Op::kHostAlloc);
  out.size = size;
  out.level = kETaskCritical;
  out.result = result;
  out.hresult = result != 0 ? kSOk : kEOutOfMemory;
  return out;
}

Event HostFree(const Event& e, uint64_t pointer) {
  Event out = Base(e, Op::kHostFree);
  out.addr = pointer;
  out.hresult = kSOk;
  return out;
}

}  // namespace

void HostMallocLift::Lift(const Event& e, uint64_t index, LiftStats* stats,
                          std::vector<Event>* out) {
  if (e.op == Op::kFree && e.addr == 0) {
    stats->CountNotLifted(NotLifted::kFreeNull, e.op, index);
    return;
  }
  if (!created_) {
    Event create;
    create.op = Op::kCreateMalloc;
    create.thread = e.thread;
    create.timestamp_ns = e.timestamp_ns;
    create.flags = kMallocThreadSafe;
    create.result = kLiftedHeapId;
    create.hresult = kSOk;
    out->push_back(create);
    stats->CountLifted(Lifted::kCreateHeap);
    created_ = true;
  }
  switch (e.op) {
    case Op::kMalloc:
      out->push_back(HostAlloc(e, e.size, e.result));
      stats->CountLifted(Lifted::kMalloc);
      return;
    case Op::kCalloc: {
      uint64_t bytes = 0;
      if (__builtin_mul_overflow(e.count, e.size, &bytes)) bytes = UINT64_MAX;  // cannot succeed
      out->push_back(HostAlloc(e, bytes, e.result));
      stats->CountLifted(Lifted::kCalloc);
      return;
    }
    case Op::kPosixMemalign:
    case Op::kAlignedAlloc:
    case Op::kMemalign:
    case Op::kValloc:
    case Op::kPvalloc:
      out->push_back(HostAlloc(e, e.size, e.error == 0 ? e.result : 0));
      stats->CountLifted(Lifted::kAlignedAlloc);
      return;
    case Op::kRealloc:
      stats->CountLifted(Lifted::kRealloc);
      if (e.addr == 0) {
        out->push_back(HostAlloc(e, e.size, e.result));
      } else if (e.size == 0 && e.result == 0) {
        out->push_back(HostFree(e, e.addr));  // glibc frees and returns NULL
      } else if (e.result == 0) {
        out->push_back(HostAlloc(e, e.size, 0));  // failed: the old block stays
      } else if (e.result == e.addr) {
        Event free = HostFree(e, e.addr);
        free.latency_ns = 0;
        out->push_back(free);
        out->push_back(HostAlloc(e, e.size, e.result));
      } else {
        out->push_back(HostAlloc(e, e.size, e.result));
        Event free = HostFree(e, e.addr);
        free.latency_ns = 0;
        out->push_back(free);
      }
      return;
    case Op::kFree:
      out->push_back(HostFree(e, e.addr));
      stats->CountLifted(Lifted::kFree);
      return;
    default:
      return;
  }
}

}  // namespace vmreplay::lift
