#include "replayer/sim_backend.h"

namespace vmreplay::replay {

Status MakeSimConfig(const VmBackendOptions& options, sim::AddressSpaceConfig* out) {
  sim::AddressSpaceConfig c;
  const std::string& shape = options.address_space;
  if (shape == "32-2g") {
    c = sim::AddressSpaceConfig::Win32_2GiB();
  } else if (shape == "32-3g") {
    c = sim::AddressSpaceConfig::Win32_3GiB();
  } else if (shape == "32-4g") {
    c = sim::AddressSpaceConfig::Win32_4GiB();
  } else if (shape == "64") {
    c = options.windows ? sim::AddressSpaceConfig::Win64() : sim::AddressSpaceConfig::Linux64();
  } else {
    return Status::Error("unknown --address-space '" + shape + "' (32-2g, 32-3g, 32-4g, 64)");
  }
  if (!options.windows) {
    c.allocation_granularity = options.page_size;
    c.page_size = options.page_size;
  }
  if (options.placement == "faithful") {
    c.placement = sim::Placement::kLayoutFaithful;
  } else if (options.placement == "bottom-up") {
    c.placement = sim::Placement::kBottomUp;
  } else {
    return Status::Error("unknown --placement '" + options.placement + "' (faithful, bottom-up)");
  }
  c.commit_limit = options.commit_limit;
  c.physical_memory = options.physical_memory;
  if (std::string problem = c.Validate(); !problem.empty()) {
    return Status::Error("address space: " + problem);
  }
  *out = c;
  return Status::Ok();
}

VmStats StatsFromSim(const sim::Metrics& m) {
  VmStats s;
  s.committed_bytes = m.committed_bytes;
  s.peak_committed_bytes = m.peak_committed_bytes;
  s.peak_committed_event = m.peak_committed_event;
  s.reserved_bytes = m.reserved_bytes;
  s.peak_reserved_bytes = m.peak_reserved_bytes;
  s.peak_reserved_event = m.peak_reserved_event;
  s.fragmentation = m.fragmentation();
  s.largest_free_block = m.largest_free_block;
  s.placement_fallbacks = m.placement_fallbacks;
  return s;
}

VmStats SimBackend::stats() const { return StatsFromSim(space_.metrics()); }

}  // namespace vmreplay::replay
