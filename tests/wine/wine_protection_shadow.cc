#include "tests/wine/wine_protection_shadow.h"

#include <iterator>

#include "simulator/win32_constants.h"

namespace vmreplay::wine_test {

using namespace vmreplay::win32;

void WineProtectionShadow::Apply(const Event& e) {
  if (e.error != 0) return;
  switch (e.op) {
    case Op::kVirtualAlloc: {
      if (e.flags & kMemReset) return;  // changes no page's protection
      // A reservation (NULL + MEM_COMMIT reserves too), else a commit inside one.
      const bool reserves = (e.flags & kMemReserve) != 0 || e.addr == 0;
      const uint64_t start = reserves ? e.result : PageDown(e.addr);
      const uint64_t end = e.addr == 0 ? e.result + PageUp(e.size) : PageUp(e.addr + e.size);
      Assign(start, end, e.protect);
      if (reserves) reserved_[start] = end;
      return;
    }
    case Op::kVirtualProtect:
      Assign(PageDown(e.addr), PageUp(e.addr + e.size), e.protect);
      return;
    case Op::kVirtualFree:
      if (e.flags == kMemRelease) {
        if (auto it = reserved_.find(e.addr); it != reserved_.end()) {
          Erase(it->first, it->second);
          reserved_.erase(it);
        }
      }
      return;  // MEM_DECOMMIT keeps the remembered protection: that is the point
    default:
      return;
  }
}

uint64_t WineProtectionShadow::Run(uint64_t addr, uint64_t limit) const {
  auto it = spans_.upper_bound(addr);
  if (it == spans_.begin()) return 0;
  --it;
  if (it->second.end <= addr) return 0;
  const uint32_t protect = it->second.protect;
  uint64_t cursor = it->second.end;
  for (++it;
       cursor < limit && it != spans_.end() && it->first == cursor && it->second.protect == protect;
       ++it) {
    cursor = it->second.end;
  }
  return (cursor < limit ? cursor : limit) - addr;
}

void WineProtectionShadow::Assign(uint64_t start, uint64_t end, uint32_t protect) {
  if (start >= end) return;
  Erase(start, end);
  spans_[start] = {end, protect};
}

void WineProtectionShadow::Erase(uint64_t start, uint64_t end) {
  auto it = spans_.lower_bound(start);
  if (it != spans_.begin()) {
    auto prev = std::prev(it);
    if (prev->second.end > start) {  // split the span reaching into the range
      const Span tail = prev->second;
      prev->second.end = start;
      if (tail.end > end) spans_[end] = tail;
    }
  }
  it = spans_.lower_bound(start);
  while (it != spans_.end() && it->first < end) {
    if (it->second.end > end) spans_[end] = it->second;
    it = spans_.erase(it);
  }
}

}  // namespace vmreplay::wine_test
