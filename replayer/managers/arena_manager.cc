#include "replayer/managers/arena_manager.h"

#include "replayer/metrics/format_bytes.h"
#include "replayer/platforms/linux_vm.h"
#include "replayer/platforms/sim_platform.h"
#include "simulator/posix_constants.h"
#include "simulator/win32_constants.h"

namespace vmreplay::replay {
ArenaManager::ArenaManager(const ManagerContext& context, const sim::AddressSpaceConfig& view,
                           uint64_t base, uint64_t size)
    : ViewManager(context, view), base_(base), size_(size) {}

Status ArenaManager::Create(const ManagerSpec& spec, const ManagerContext& context,
                            std::unique_ptr<Manager>* out) {
  Platform& platform = *context.platform;
  const uint64_t granularity = platform.allocation_granularity();
  const uint64_t wanted = spec.Bytes("size");
  if (wanted == 0) return Status::Error("arena: size must be positive");
  const uint64_t size = (wanted + granularity - 1) & ~(granularity - 1);
  if (size < wanted)
    return Status::Error("arena: size " + std::to_string(wanted) + " is too large");
  uint64_t base = 0;
  if (context.windows) {
    const VmResult r = platform.VirtualAlloc(0, size, win32::kMemReserve, win32::kPageNoAccess, 0);
    if (r.error != 0) {
      return Status::Error("arena: the " + std::string(platform.name()) +
                           " platform refused to reserve " + std::to_string(size) +
                           " bytes (error " + std::to_string(r.error) + ")");
    }
    base = r.address;
  } else {
    using namespace linux_abi;
    const VmResult r =
        platform.Mmap(0, size, kProtNone, kMapPrivate | kMapAnonymous | kMapNoReserve, 0);
    if (r.error != 0) {
      return Status::Error("arena: the " + std::string(platform.name()) +
                           " platform refused to map " + std::to_string(size) + " bytes (errno " +
                           std::to_string(r.error) + ")");
    }
    base = r.address;
  }
  sim::AddressSpaceConfig view;
  view.page_size = platform.page_size();
  view.allocation_granularity = granularity;
  view.min_address = base;
  view.max_address = base + size - 1;
  view.mmap_top_down = false;  // Placement policies work upwards inside the arena.
  const std::string& placement = spec.Choice("placement");
  VMREPLAY_RETURN_IF_ERROR(ParsePlacement(placement, &view.placement));
  if (std::string problem = view.Validate(); !problem.empty()) {
    return Status::Error("arena: " + problem);
  }
  out->reset(new ArenaManager(context, view, base, size));
  return Status::Ok();
}

void ArenaManager::NoteDidNotFit(uint64_t size) {
  ++did_not_fit_;
  if (size > largest_did_not_fit_) {
    largest_did_not_fit_ = size;
    largest_free_then_ = view_.metrics().largest_free_block;
  }
}

void ArenaManager::AfterChange() {
  const double f = view_.metrics().fragmentation();
  if (f > max_fragmentation_) max_fragmentation_ = f;
}

// ------------------------------------------------------------------------------------ Win32

VmResult ArenaManager::VirtualAlloc(uint64_t address, uint64_t size, uint32_t type,
                                    uint32_t protect, uint32_t, uint64_t) {
  const bool commit = (type & win32::kMemCommit) != 0;
  // MEM_COMMIT alone at NULL reserves too (Windows commits a new reservation).
  const bool reserve = (type & win32::kMemReserve) != 0 || (address == 0 && commit);
  if (commit) {
    uint64_t need = 0;
    if (reserve) {
      need = PageUp(size);
    } else if (address >= base_ && address - base_ < size_) {
      const auto [start, end] = PageRange(address, size);
      need = (end - start) - platform_->CommittedIn(start, end);
    }
    if (OverCommitLimit(need)) return VmResult{0, win32::kErrorCommitmentLimit};
  }
  const sim::AllocOutcome o = view_.VirtualAlloc(address, size, type, protect, 0);
  if (o.error != 0) {
    if (reserve && address == 0) {
      // Larger than the arena but not than the address space: the host is out of arena.
      const auto [first, last] = platform_->user_range();
      const bool too_large =
          o.error == win32::kErrorInvalidParameter && size > size_ && size <= last - first + 1;
      if (o.error == win32::kErrorNotEnoughMemory || too_large) {
        NoteDidNotFit(size);
        return VmResult{0, win32::kErrorNotEnoughMemory};
      }
    }
    return VmResult{0, o.error};
  }
  const uint64_t first = address == 0 ? o.address : address;
  const auto [start, end] = PageRange(first, size);
  if (commit) {
    const VmResult r = platform_->VirtualAlloc(start, end - start, win32::kMemCommit, protect, 0);
    if (r.error != 0) {  // Not the commit limit (checked above): undo in the view and fail.
      if (reserve) {
        view_.VirtualFree(o.address, 0, win32::kMemRelease);
      } else {
        view_.VirtualFree(start, end - start, win32::kMemDecommit);
      }
      return VmResult{0, r.error};
    }
  } else if ((type & win32::kMemReset) != 0) {
    platform_->VirtualAlloc(start, end - start, win32::kMemReset, protect, 0);
  }
  AfterChange();
  return VmResult{o.address, 0};
}

uint32_t ArenaManager::VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) {
  const auto extent = view_.AllocationContaining(address);
  uint64_t start = PageDown(address);
  uint64_t end = PageRange(address, size).second;
  if (free_type == win32::kMemRelease && extent) {
    start = extent->first;
    end = extent->second;
  } else if (size == 0 && extent) {
    end = extent->second;  // MEM_DECOMMIT with size 0: to the end of the reservation.
  }
  const uint32_t error = view_.VirtualFree(address, size, free_type);
  if (error != 0) return error;
  // Released or decommitted for the CLR; the arena keeps the pages reserved.
  if (end > start) platform_->VirtualFree(start, end - start, win32::kMemDecommit);
  AfterChange();
  return 0;
}

// ------------------------------------------------------------------------------------ POSIX

namespace {

bool SharedFile(int flags) {
  using namespace linux_abi;
  return (flags & kMapTypeMask) != kMapPrivate && (flags & kMapAnonymous) == 0;
}

}  // namespace

void ArenaManager::ResetPosix(uint64_t start, uint64_t end) {
  // One call gives the pages back as the arena holds them (what the GC's decommit does too).
  using namespace linux_abi;
  platform_->Mmap(start, end - start, kProtNone,
                  kMapPrivate | kMapAnonymous | kMapNoReserve | kMapFixed, 0);
}

VmResult ArenaManager::Mmap(uint64_t address, uint64_t length, int prot, int flags, uint64_t) {
  using namespace linux_abi;
  const int fixed_flags = kMapFixed | kMapFixedNoReplace;
  const bool fixed = (flags & fixed_flags) != 0;
  const uint64_t len = PageUp(length);
  if (prot != kProtNone && !SharedFile(flags)) {
    const uint64_t have = fixed ? platform_->CommittedIn(address, address + len) : 0;
    if (OverCommitLimit(len - have)) return VmResult{0, static_cast<uint32_t>(kEnomem)};
  }
  // Inside the arena only: a hint elsewhere is ignored, placement is the arena's.
  const auto o =
      view_.Mmap(fixed ? address : 0, length, prot, fixed ? flags : flags & ~fixed_flags);
  if (o.error != 0) {
    if (!fixed && o.error == kEnomem) NoteDidNotFit(length);
    return VmResult{0, static_cast<uint32_t>(o.error)};
  }
  if (SharedFile(flags)) {
    // The file mapped over the arena's pages: backed by the file, not charged.
    platform_->Mmap(o.address, length, prot, (flags & ~kMapFixedNoReplace) | kMapFixed, 0);
  } else if (fixed) {
    // MAP_FIXED replaces the contents with fresh zero pages in one call.
    platform_->Mmap(o.address, length, prot,
                    kMapPrivate | kMapAnonymous | kMapNoReserve | kMapFixed, 0);
  } else if (prot != kProtNone) {
    platform_->Mprotect(o.address, len, prot);
  }
  AfterChange();
  return VmResult{o.address, 0};
}

uint32_t ArenaManager::Munmap(uint64_t address, uint64_t length) {
  const auto parts = AllocatedSubranges(view_, address, address + PageUp(length));
  const int error = view_.Munmap(address, length);
  if (error != 0) return static_cast<uint32_t>(error);
  for (const auto& [s, e] : parts) ResetPosix(s, e);
  AfterChange();
  return 0;
}

uint32_t ArenaManager::Mprotect(uint64_t address, uint64_t length, int prot) {
  const uint64_t len = PageUp(length);
  if (prot != linux_abi::kProtNone && address >= base_ && address - base_ < size_) {
    const uint64_t end = address + len > base_ + size_ ? base_ + size_ : address + len;
    if (OverCommitLimit((end - address) - platform_->CommittedIn(address, end))) {
      return static_cast<uint32_t>(linux_abi::kEnomem);
    }
  }
  const int error = view_.Mprotect(address, length, prot);
  if (error != 0) return static_cast<uint32_t>(error);
  platform_->Mprotect(address, len, prot);
  return 0;
}

uint32_t ArenaManager::Madvise(uint64_t address, uint64_t length, int advice) {
  const auto parts = AllocatedSubranges(view_, address, address + PageUp(length));
  const int error = view_.Madvise(address, length, advice);
  for (const auto& [s, e] : parts) platform_->Madvise(s, e - s, advice);
  return static_cast<uint32_t>(error);
}

VmResult ArenaManager::Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                              uint64_t, uint64_t) {
  using namespace linux_abi;
  const uint64_t old_len = PageUp(old_size);
  const uint64_t new_len = PageUp(new_size);
  if (new_len > old_len && OverCommitLimit(new_len - old_len)) {
    return VmResult{0, static_cast<uint32_t>(kEnomem)};
  }
  // Placement inside the arena only: MREMAP_FIXED targets are not honoured.
  const auto o = view_.Mremap(address, old_size, new_size, flags & kMremapMayMove, 0, 0);
  if (o.error != 0) {
    if (o.error == kEnomem) NoteDidNotFit(new_size);
    return VmResult{0, static_cast<uint32_t>(o.error)};
  }
  // Contents are not carried over (the replay never reads them); protections become RW.
  if (o.address == address) {
    if (new_len > old_len) {
      platform_->Mprotect(address + old_len, new_len - old_len, kProtRead | kProtWrite);
    }
    if (new_len < old_len) ResetPosix(address + new_len, address + old_len);
  } else {
    platform_->Mprotect(o.address, new_len, kProtRead | kProtWrite);
    ResetPosix(address, address + old_len);
  }
  AfterChange();
  return VmResult{o.address, 0};
}

ManagerStats ArenaManager::stats() const {
  using Unit = ManagerFigure::Unit;
  const sim::Metrics& m = view_.metrics();
  ManagerStats s;
  s.figures = {
      {"arena size", static_cast<double>(size_), Unit::kBytes},
      {"arena peak in use", static_cast<double>(m.peak_reserved_bytes), Unit::kBytes},
      {"arena fragmentation end", m.fragmentation(), Unit::kRatio},
      {"arena fragmentation max", max_fragmentation_, Unit::kRatio},
      {"arena largest free end", static_cast<double>(m.largest_free_block), Unit::kBytes},
      {"arena did not fit", static_cast<double>(did_not_fit_), Unit::kCount},
  };
  if (did_not_fit_ != 0) {
    s.notes.push_back("arena: " + std::to_string(did_not_fit_) +
                      " reservation(s) did not fit in the " + FormatBytes(size_) +
                      " arena (the largest " + FormatBytes(largest_did_not_fit_) +
                      (largest_did_not_fit_ > size_
                           ? ", more than the whole arena"
                           : ", with " + FormatBytes(largest_free_then_) + " free in one block") +
                      "): raise --manager=arena:size=");
  }
  return s;
}

}  // namespace vmreplay::replay
