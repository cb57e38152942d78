// The table of platforms and the factory (one place to add a platform), and the names of the
// platform calls.
#include <memory>

#include "replayer/platforms/os_platform.h"
#include "replayer/platforms/platform.h"
#include "replayer/platforms/sim_platform.h"

namespace vmreplay::replay {

std::string_view PlatformCallName(PlatformCall call) {
  switch (call) {
    case PlatformCall::kReserve:
      return "VirtualAlloc reserve";
    case PlatformCall::kCommit:
      return "VirtualAlloc commit";
    case PlatformCall::kReserveAndCommit:
      return "VirtualAlloc reserve+commit";
    case PlatformCall::kReset:
      return "VirtualAlloc reset";
    case PlatformCall::kDecommit:
      return "VirtualFree decommit";
    case PlatformCall::kRelease:
      return "VirtualFree release";
    case PlatformCall::kProtect:
      return "VirtualProtect";
    case PlatformCall::kQuery:
      return "VirtualQuery";
    case PlatformCall::kMmap:
      return "mmap";
    case PlatformCall::kMunmap:
      return "munmap";
    case PlatformCall::kMprotect:
      return "mprotect";
    case PlatformCall::kMadvise:
      return "madvise";
    case PlatformCall::kMremap:
      return "mremap";
    case PlatformCall::kHugePageAdvice:
      return "huge-page advice";
    case PlatformCall::kCount:
      break;
  }
  return "?";
}

PlatformCall VirtualAllocKind(uint64_t address, uint32_t type) {
  const bool commit = (type & win32::kMemCommit) != 0;
  const bool reserve = (type & win32::kMemReserve) != 0 || (address == 0 && commit);
  if (reserve && commit) return PlatformCall::kReserveAndCommit;
  if (reserve) return PlatformCall::kReserve;
  if ((type & win32::kMemReset) != 0) return PlatformCall::kReset;
  return PlatformCall::kCommit;
}

PlatformStats Platform::stats() const {
  PlatformStats s = DoStats();
  for (size_t i = 0; i < calls_.size(); ++i) {
    if (calls_[i] != 0)
      s.calls[std::string(PlatformCallName(static_cast<PlatformCall>(i)))] = calls_[i];
  }
  return s;
}

const std::vector<PlatformInfo>& Platforms() {
  static const std::vector<PlatformInfo> platforms = {
      {"sim",
       "simulated address space, no real memory (--placement, --address-space, --commit-limit)"},
      {"os",
       "real mmap/mprotect/madvise/munmap, one mapping per reservation; commits limited to the "
       "machine's RAM + swap unless --commit-limit"},
  };
  return platforms;
}

Status MakePlatform(std::string_view name, const PlatformOptions& options,
                    std::unique_ptr<Platform>* out) {
  if (name == "sim") {
    sim::AddressSpaceConfig config;
    VMREPLAY_RETURN_IF_ERROR(MakeSimConfig(options, &config));
    *out = std::make_unique<SimPlatform>(config, options.foreign_mappings);
    return Status::Ok();
  }
  if (name == "os") {
    *out = std::make_unique<OsPlatform>(options);
    return Status::Ok();
  }
  return Status::Error("unknown platform '" + std::string(name) +
                       "' (sim, os; vmreplay backends lists them)");
}

std::vector<ForeignMapping> ForeignMappingsOf(const proto::Header& header) {
  std::vector<ForeignMapping> out;
  out.reserve(static_cast<size_t>(header.initial_mappings_size()));
  for (const proto::Mapping& m : header.initial_mappings()) {
    // Anonymous memory has no inode; "[heap]", "[stack]" and the like are anonymous too.
    const bool file = m.inode() != 0;
    out.push_back({m.start(), m.size(), static_cast<int>(m.protect() & 7), m.shared(), file});
  }
  return out;
}

}  // namespace vmreplay::replay
