// The common part of the managers that place or cache memory themselves (arena, decommit-cache,
// large-pages): the address space *as the CLR sees it* is a simulator of its own, the view, so
// every answer the CLR gets (errors, VirtualQuery, old protections) keeps exact Win32 or Linux
// semantics whatever the policy does underneath, and the platform holds only what the policy
// decided to ask the OS for. A call the view refuses never reaches the platform.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "replayer/managers/manager.h"
#include "simulator/address_space.h"

namespace vmreplay::replay {

// A run of committed pages of one protection.
struct CommittedPiece {
  uint64_t start = 0;
  uint64_t end = 0;
  uint32_t protect = 0;
};
// The committed runs of [start, end) in `space`, clipped to it, in address order.
std::vector<CommittedPiece> CommittedPieces(const sim::AddressSpace& space, uint64_t start,
                                            uint64_t end);

class ViewManager : public Manager {
 public:
  // The policy chooses addresses: error codes still compare, recorded addresses do not.
  CompareMode compare_mode() const override {
    return Weaker(platform_->compare_mode(), CompareMode::kErrorCode);
  }
  bool identity_addresses() const override { return false; }

  uint64_t VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                        uint32_t* error) override {
    return view_.VirtualQuery(address, info, error);
  }
  // The view decides; the platform's pages then take the protection too.
  uint32_t VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                          uint32_t* old_protect) override;
  // The mmap family passes through unchanged and is counted (the policies are the VirtualAlloc
  // family's); a manager whose policy covers it overrides these.
  VmResult Mmap(uint64_t address, uint64_t length, int prot, int flags,
                uint64_t recorded_address) override;
  uint32_t Munmap(uint64_t address, uint64_t length) override;
  uint32_t Mprotect(uint64_t address, uint64_t length, int prot) override;
  uint32_t Madvise(uint64_t address, uint64_t length, int advice) override;
  VmResult Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                  uint64_t new_address, uint64_t recorded_address) override;

  void set_event_index(uint64_t index) override {
    platform_->set_event_index(index);
    view_.set_event_index(index);
  }

  const sim::AddressSpace& view() const { return view_; }

 protected:
  // `view`: the view's shape; its bounds must lie inside the platform's.
  ViewManager(const ManagerContext& context, const sim::AddressSpaceConfig& view);
  // A view over the platform's whole user range that places new memory where the platform put it
  // (the hint), for policies that take their addresses from the platform.
  static sim::AddressSpaceConfig FollowingView(const Platform& platform);

  uint64_t PageDown(uint64_t a) const { return a & ~(page_size_ - 1); }
  uint64_t PageUp(uint64_t a) const { return (a + page_size_ - 1) & ~(page_size_ - 1); }
  // [PageDown(address), PageUp(address + size)), saturating at the top.
  std::pair<uint64_t, uint64_t> PageRange(uint64_t address, uint64_t size) const;
  // The note that says how many mmap-family calls passed through, if any did.
  void AddPassThroughNote(ManagerStats* stats) const;

  sim::AddressSpace view_;
  uint64_t page_size_;
  uint64_t passed_through_ = 0;
};

}  // namespace vmreplay::replay
