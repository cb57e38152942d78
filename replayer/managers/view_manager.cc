#include "replayer/managers/view_manager.h"

#include "simulator/win32_constants.h"

namespace vmreplay::replay {

std::vector<CommittedPiece> CommittedPieces(const sim::AddressSpace& space, uint64_t start,
                                            uint64_t end) {
  std::vector<CommittedPiece> out;
  const sim::RegionMap& regions = space.regions();
  auto it = regions.Find(start);
  if (it == regions.end()) it = regions.UpperBound(start);
  for (; it != regions.end() && it->first < end; ++it) {
    if (!it->second.Charged()) continue;
    const uint64_t s = it->first < start ? start : it->first;
    const uint64_t e = it->second.end < end ? it->second.end : end;
    if (s >= e) continue;
    if (!out.empty() && out.back().end == s && out.back().protect == it->second.protect) {
      out.back().end = e;
    } else {
      out.push_back(CommittedPiece{s, e, it->second.protect});
    }
  }
  return out;
}

ViewManager::ViewManager(const ManagerContext& context, const sim::AddressSpaceConfig& view)
    : Manager(context), view_(view), page_size_(view.page_size) {}

sim::AddressSpaceConfig ViewManager::FollowingView(const Platform& platform) {
  sim::AddressSpaceConfig c;
  c.page_size = platform.page_size();
  c.allocation_granularity = platform.allocation_granularity();
  c.min_address = platform.user_range().first;
  c.max_address = platform.user_range().second;
  c.placement = sim::Placement::kLayoutFaithful;
  c.mmap_top_down = false;
  return c;  // No commit limit: the platform's applies, to what the policy really commits.
}

std::pair<uint64_t, uint64_t> ViewManager::PageRange(uint64_t address, uint64_t size) const {
  const uint64_t start = PageDown(address);
  const uint64_t last = address + size < address ? UINT64_MAX : address + size;
  const uint64_t end = last > UINT64_MAX - page_size_ ? PageDown(UINT64_MAX) : PageUp(last);
  return {start, end};
}

uint32_t ViewManager::VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                                     uint32_t* old_protect) {
  const uint32_t error = view_.VirtualProtect(address, size, protect, old_protect);
  if (error != 0) return error;
  const auto [start, end] = PageRange(address, size);
  uint32_t ignored = 0;
  platform_->VirtualProtect(start, end - start, protect, &ignored);
  return 0;
}

VmResult ViewManager::Mmap(uint64_t address, uint64_t length, int prot, int flags,
                           uint64_t recorded_address) {
  ++passed_through_;
  return Manager::Mmap(address, length, prot, flags, recorded_address);
}

uint32_t ViewManager::Munmap(uint64_t address, uint64_t length) {
  ++passed_through_;
  return Manager::Munmap(address, length);
}

uint32_t ViewManager::Mprotect(uint64_t address, uint64_t length, int prot) {
  ++passed_through_;
  return Manager::Mprotect(address, length, prot);
}

uint32_t ViewManager::Madvise(uint64_t address, uint64_t length, int advice) {
  ++passed_through_;
  return Manager::Madvise(address, length, advice);
}

VmResult ViewManager::Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                             uint64_t new_address, uint64_t recorded_address) {
  ++passed_through_;
  return Manager::Mremap(address, old_size, new_size, flags, new_address, recorded_address);
}

void ViewManager::AddPassThroughNote(ManagerStats* stats) const {
  if (passed_through_ == 0) return;
  stats->notes.push_back(std::string(name()) + ": " + std::to_string(passed_through_) +
                         " mmap-family calls passed through unchanged (the policy applies to "
                         "the VirtualAlloc family; `vmreplay lift --clr` turns a .NET capture "
                         "into one)");
}

}  // namespace vmreplay::replay
