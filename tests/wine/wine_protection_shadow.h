// The protection Wine remembers for every page of the oracle's allocations, reserved pages
// included. Wine keeps a page's protection bits when it is decommitted (and gives never-committed
// pages the reservation's flProtect), and its VirtualQuery splits MEM_RESERVE runs where those
// remembered bits change; Windows reports reserved pages as Protect 0 and merges them. This
// shadow predicts exactly where Wine splits, so the test can accept that deviation only where it
// is the whole difference.
#pragma once

#include <cstdint>
#include <map>

#include "proto/event.h"

namespace vmreplay::wine_test {

class WineProtectionShadow {
 public:
  explicit WineProtectionShadow(uint64_t page_size) : page_(page_size) {}

  // Applies a recorded event (Wine's outcome) that succeeded.
  void Apply(const Event& recorded);

  // Bytes from `addr` (page aligned) up to `limit` whose remembered protection equals addr's.
  uint64_t Run(uint64_t addr, uint64_t limit) const;

 private:
  struct Span {
    uint64_t end;
    uint32_t protect;
  };
  void Assign(uint64_t start, uint64_t end, uint32_t protect);
  void Erase(uint64_t start, uint64_t end);
  uint64_t PageDown(uint64_t a) const { return a & ~(page_ - 1); }
  uint64_t PageUp(uint64_t a) const { return (a + page_ - 1) & ~(page_ - 1); }

  uint64_t page_;
  std::map<uint64_t, Span> spans_;         // disjoint, keyed by start
  std::map<uint64_t, uint64_t> reserved_;  // allocation base -> end
};

}  // namespace vmreplay::wine_test
