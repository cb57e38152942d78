#include "replayer/lift/clr_lifter.h"

namespace vmreplay::lift {

void ClrLifter::Lift(const Event& e, uint64_t index, std::vector<Event>* out) {
  stats_.CountEventIn();
  if (e.origin == static_cast<uint32_t>(CallOrigin::kHeapInternal)) {
    stats_.CountNotLifted(NotLifted::kHeapInternal, e.op, index);
    return;
  }
  if (IsPosixVirtualOp(e.op)) {
    vm_.Lift(e, index, out);
  } else {
    heap_.Lift(e, index, &stats_, out);
  }
}

}  // namespace vmreplay::lift
