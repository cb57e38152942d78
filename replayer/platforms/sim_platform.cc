#include "replayer/platforms/sim_platform.h"

namespace vmreplay::replay {

Status ParsePlacement(const std::string& name, sim::Placement* out) {
  if (name == "faithful") {
    *out = sim::Placement::kLayoutFaithful;
  } else if (name == "bottom-up" || name == "first-fit") {
    *out = sim::Placement::kBottomUp;
  } else if (name == "best-fit") {
    *out = sim::Placement::kBestFit;
  } else if (name == "next-fit") {
    *out = sim::Placement::kNextFit;
  } else {
    return Status::Error("unknown placement '" + name +
                         "' (faithful, bottom-up = first-fit, best-fit, next-fit)");
  }
  return Status::Ok();
}

Status MakeSimConfig(const PlatformOptions& options, sim::AddressSpaceConfig* out) {
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
  VMREPLAY_RETURN_IF_ERROR(ParsePlacement(options.placement, &c.placement));
  c.commit_limit = options.commit_limit == 0 ? UINT64_MAX : options.commit_limit;
  c.physical_memory = options.physical_memory;
  if (std::string problem = c.Validate(); !problem.empty()) {
    return Status::Error("address space: " + problem);
  }
  *out = c;
  return Status::Ok();
}

PlatformStats StatsFromSim(const sim::Metrics& m, uint64_t commit_limit) {
  PlatformStats s;
  s.committed_bytes = m.committed_bytes;
  s.peak_committed_bytes = m.peak_committed_bytes;
  s.peak_committed_event = m.peak_committed_event;
  s.reserved_bytes = m.reserved_bytes;
  s.peak_reserved_bytes = m.peak_reserved_bytes;
  s.peak_reserved_event = m.peak_reserved_event;
  s.fragmentation = m.fragmentation();
  s.largest_free_block = m.largest_free_block;
  s.placement_fallbacks = m.placement_fallbacks;
  s.commit_limit_refusals = m.commit_limit_failures;
  if (commit_limit != UINT64_MAX) s.commit_limit = commit_limit;
  return s;
}

SimPlatform::SimPlatform(const sim::AddressSpaceConfig& config,
                         const std::vector<ForeignMapping>& foreign)
    : space_(config) {
  for (const ForeignMapping& m : foreign) {
    if (m.start > config.max_address) continue;  // [vsyscall]: above user space, as on Linux
    if (space_.PlaceForeign(m.start, m.size, m.prot, m.shared, m.file)) {
      ++foreign_mappings_;
      foreign_bytes_ += m.size;
    } else {
      ++foreign_skipped_;
    }
  }
}

PlatformStats SimPlatform::DoStats() const {
  PlatformStats s = StatsFromSim(space_.metrics(), space_.config().commit_limit);
  s.foreign_mappings = foreign_mappings_;
  s.foreign_bytes = foreign_bytes_;
  s.foreign_skipped = foreign_skipped_;
  return s;
}

}  // namespace vmreplay::replay
