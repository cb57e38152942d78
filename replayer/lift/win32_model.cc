#include "replayer/lift/win32_model.h"

#include <algorithm>

namespace vmreplay::lift {

sim::AddressSpaceConfig LiftedAddressSpaceConfig(const proto::Header& recorded) {
  sim::AddressSpaceConfig c = sim::AddressSpaceConfig::Linux64();
  if (recorded.page_size() != 0) c.page_size = recorded.page_size();
  c.allocation_granularity = c.page_size;
  c.min_address = c.page_size;
  c.commit_limit = UINT64_MAX;
  c.placement = sim::Placement::kLayoutFaithful;
  return c;
}

uint64_t Win32Model::CommittedIn(uint64_t start, uint64_t end) const {
  const sim::RegionMap& regions = space_.regions();
  auto it = regions.Find(start);
  if (it == regions.end()) it = regions.UpperBound(start);
  uint64_t committed = 0;
  for (; it != regions.end() && it->first < end; ++it) {
    if (it->second.state != win32::kMemCommit) continue;
    const uint64_t from = std::max(it->first, start);
    const uint64_t to = std::min(it->second.end, end);
    if (to > from) committed += to - from;
  }
  return committed;
}

}  // namespace vmreplay::lift
