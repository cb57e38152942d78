#include "replayer/lift/executable_pool_scan.h"

#include <iterator>

#include "simulator/posix_constants.h"

namespace vmreplay::lift {

using namespace linux_abi;

void ExecutablePoolScan::Observe(const Event& e, uint64_t index) {
  if (e.error != 0) return;
  if (e.op == Op::kMmap) {
    const int flags = static_cast<int>(e.flags);
    const bool anonymous = (flags & kMapAnonymous) != 0;
    if (anonymous && (flags & kMapFixed) == 0 && e.protect == kProtNone) {
      candidates_[e.result] = {e.result + e.size, index};
    } else if (!anonymous && (flags & kMapFixed) != 0) {
      auto it = candidates_.upper_bound(e.addr);
      if (it != candidates_.begin() && std::prev(it)->second.end > e.addr) {
        pools_.insert(std::prev(it)->second.index);
      }
    }
  } else if (e.op == Op::kMunmap) {
    // Whole candidates inside the range go; a trimmed one keeps its remaining part.
    const uint64_t start = e.addr;
    const uint64_t end = e.addr + e.size;
    auto it = candidates_.upper_bound(start);
    if (it != candidates_.begin()) --it;
    while (it != candidates_.end() && it->first < end) {
      const uint64_t c_start = it->first;
      const Candidate c = it->second;
      if (c.end <= start) {
        ++it;
        continue;
      }
      it = candidates_.erase(it);
      if (c_start < start) candidates_[c_start] = {start, c.index};
      if (c.end > end) candidates_[end] = {c.end, c.index};
    }
  }
}

}  // namespace vmreplay::lift
