// `large-pages`: the host backs the CLR's memory with large pages of `page` bytes (2 MiB): every
// reservation is placed on a page boundary and rounded up to whole pages at the platform, every
// commit is widened to the whole pages it touches, and a page is decommitted only when none of it
// is still committed for the CLR. On the os platform each reservation is advised MADV_HUGEPAGE
// (transparent huge pages); on sim the advice is counted. The CLR's view stays exact (it sees the
// sizes it asked for), so what the policy costs shows at the platform: commit is always a
// multiple of the page (tested), and at least the CLR's own.
//
// The policy applies to the VirtualAlloc family; mmap-family calls pass through (a note says so).
#pragma once

#include <map>

#include "replayer/managers/view_manager.h"

namespace vmreplay::replay {

class LargePagesManager final : public ViewManager {
 public:
  LargePagesManager(const ManagerSpec& spec, const ManagerContext& context);
  std::string_view name() const override { return "large-pages"; }

  VmResult VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                        uint32_t level, uint64_t recorded_address) override;
  uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) override;
  ManagerStats stats() const override;

 private:
  uint64_t LargeDown(uint64_t a) const { return a & ~(large_ - 1); }
  uint64_t LargeUp(uint64_t a) const { return (a + large_ - 1) & ~(large_ - 1); }
  // A platform reservation of `length` (a multiple of the page) on a page boundary, or an error.
  VmResult ReserveAligned(uint64_t length, uint64_t recorded_address);
  // The large pages covering [start, end), clipped to the reservation holding `start`.
  std::pair<uint64_t, uint64_t> Widen(uint64_t start, uint64_t end) const;
  // Decommits, at the platform, the large pages of [start, end) nothing in the view still uses.
  void DecommitUnused(uint64_t start, uint64_t end);
  bool OverCommitLimit(uint64_t need) const {
    return platform_->committed_bytes() + need > platform_->commit_limit() ||
           platform_->committed_bytes() + need < need;
  }

  uint64_t large_;
  std::map<uint64_t, uint64_t> reservations_;  // base -> bytes at the platform (whole pages)
  uint64_t realigned_ = 0;                     // reservations that needed a second try
};

}  // namespace vmreplay::replay
