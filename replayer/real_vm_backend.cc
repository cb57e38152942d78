#include "replayer/real_vm_backend.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "simulator/posix_constants.h"
#include "simulator/win32_constants.h"

namespace vmreplay::replay {

namespace {

// Mappings the kernel allows this process (vm.max_map_count), less room for the replayer's own
// heap, stacks and libraries. Each shadow region is at most one kernel mapping.
uint64_t MappingBudget() {
  uint64_t limit = 65530;  // the kernel's default
  if (std::FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    unsigned long long v = 0;
    if (std::fscanf(f, "%llu", &v) == 1 && v > 0) limit = v;
    std::fclose(f);
  }
  constexpr uint64_t kHeadroom = 4096;
  return limit > 2 * kHeadroom ? limit - kHeadroom : limit / 2;
}

}  // namespace

RealVmBackend::RealVmBackend(const sim::AddressSpaceConfig& shadow_config)
    : shadow_(shadow_config),
      page_size_(shadow_config.page_size),
      mapping_budget_(MappingBudget()) {
  ResetRssHighWater();
}

bool RealVmBackend::AtMappingLimit() {
  // A call can split at most two regions into three: keep that much slack.
  if (shadow_.metrics().region_count + 2 < mapping_budget_) return false;
  ++out_of_space_;
  if (!warned_mapping_limit_) {
    warned_mapping_limit_ = true;
    std::fprintf(stderr,
                 "vmreplay: %s backend: %llu regions mapped, near the kernel's per-process mapping "
                 "limit (vm.max_map_count); further mapping calls fail as out of space\n",
                 std::string(name()).c_str(),
                 static_cast<unsigned long long>(shadow_.metrics().region_count));
  }
  return true;
}

void RealVmBackend::Protect(uint64_t address, uint64_t length, int prot) {
  syscalls_.Add("mprotect");
  if (mprotect(reinterpret_cast<void*>(address), length, prot) != 0) {
    syscalls_.Add("mprotect failed");
  }
}

void RealVmBackend::Discard(uint64_t address, uint64_t length, int advice) {
  syscalls_.Add("madvise");
  if (madvise(reinterpret_cast<void*>(address), length, advice) != 0) {
    syscalls_.Add("madvise failed");
  }
}

void RealVmBackend::Decommit(uint64_t address, uint64_t length) {
  Discard(address, length, MADV_DONTNEED);
  Protect(address, length, PROT_NONE);
}

VmResult RealVmBackend::VirtualAlloc(uint64_t address, uint64_t size, uint32_t type,
                                     uint32_t protect, uint64_t) {
  if (AtMappingLimit()) return VmResult{0, win32::kErrorNotEnoughMemory};
  const bool commit = (type & win32::kMemCommit) != 0;
  // MEM_COMMIT alone at NULL reserves too (Windows commits a new reservation).
  const bool reserve = (type & win32::kMemReserve) != 0 || (address == 0 && commit);
  const uint64_t granularity = shadow_.config().allocation_granularity;
  sim::AllocOutcome o;
  if (reserve && address == 0) {
    const uint64_t length = PageUp(size);
    uint64_t real = length == 0 ? kLetShadowPlace : PlaceNew(length, granularity, PROT_NONE);
    if (real == 0) {
      ++out_of_space_;
      return VmResult{0, win32::kErrorNotEnoughMemory};
    }
    o = shadow_.VirtualAlloc(0, size, type, protect, real == kLetShadowPlace ? 0 : real);
    if (real != kLetShadowPlace && (o.error != 0 || o.address != real)) {
      if (o.error == 0) shadow_.VirtualFree(o.address, 0, win32::kMemRelease);
      Unmap(real, length);
      return VmResult{0, o.error != 0 ? o.error : win32::kErrorNotEnoughMemory};
    }
    if (o.error == win32::kErrorNotEnoughMemory) ++out_of_space_;
    if (o.error != 0) return VmResult{0, o.error};
    reservations_[o.address] = length;
  } else if (reserve) {
    o = shadow_.VirtualAlloc(address, size, type, protect, 0);
    if (o.error != 0) return VmResult{0, o.error};
    const uint64_t length = PageUp(address + size) - o.address;
    if (!MapFixed(o.address, length)) {
      shadow_.VirtualFree(o.address, 0, win32::kMemRelease);
      return VmResult{0, win32::kErrorInvalidAddress};
    }
    reservations_[o.address] = length;
  } else {
    o = shadow_.VirtualAlloc(address, size, type, protect, 0);
    if (o.error != 0) return VmResult{0, o.error};
    if ((type & win32::kMemReset) != 0) {
      Discard(PageDown(address), PageUp(address + size) - PageDown(address), MADV_FREE);
    }
  }
  if (commit) {
    const uint64_t start = address == 0 ? o.address : PageDown(address);
    const uint64_t end = PageUp((address == 0 ? o.address : address) + size);
    Protect(start, end - start, ProtFromWin32(protect));
  }
  return VmResult{o.address, 0};
}

uint32_t RealVmBackend::VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) {
  if (free_type == win32::kMemRelease) {
    const uint32_t error = shadow_.VirtualFree(address, size, free_type);
    if (error != 0) return error;
    auto it = reservations_.find(address);
    if (it != reservations_.end()) {
      Unmap(it->first, it->second);
      reservations_.erase(it);
    }
    return 0;
  }
  if (AtMappingLimit()) return win32::kErrorNotEnoughMemory;  // a decommit splits mappings
  uint64_t start = PageDown(address);
  uint64_t end = PageUp(address + size);
  if (size == 0) {
    auto it = reservations_.upper_bound(address);
    if (it != reservations_.begin()) {
      --it;
      end = it->first + it->second;
    }
  }
  const uint32_t error = shadow_.VirtualFree(address, size, free_type);
  if (error != 0) return error;
  if (free_type == win32::kMemDecommit && end > start) Decommit(start, end - start);
  return 0;
}

uint32_t RealVmBackend::VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                                       uint32_t* old_protect) {
  if (AtMappingLimit()) return win32::kErrorNotEnoughMemory;
  const uint32_t error = shadow_.VirtualProtect(address, size, protect, old_protect);
  if (error != 0) return error;
  Protect(PageDown(address), PageUp(address + size) - PageDown(address), ProtFromWin32(protect));
  return 0;
}

VmResult RealVmBackend::Mmap(uint64_t address, uint64_t length, int prot, int flags, uint64_t) {
  using namespace linux_abi;
  if (AtMappingLimit()) return VmResult{0, static_cast<uint32_t>(kEnomem)};
  const uint64_t len = PageUp(length);
  if ((flags & (kMapFixed | kMapFixedNoReplace)) != 0) {
    // Only ever over memory this backend owns (the engine translated the address into it).
    if (len == 0 || !FullyAllocated(shadow_, address, address + len)) {
      return VmResult{0, static_cast<uint32_t>(kEinval)};
    }
    const auto o = shadow_.Mmap(address, length, prot, flags, 0);
    if (o.error != 0) return VmResult{0, static_cast<uint32_t>(o.error)};
    Replace(address, len, prot);
    return VmResult{o.address, 0};
  }
  if (len == 0) return VmResult{0, static_cast<uint32_t>(kEinval)};
  const uint64_t real = PlaceNew(len, page_size_, prot);
  if (real == 0) {
    ++out_of_space_;
    return VmResult{0, static_cast<uint32_t>(kEnomem)};
  }
  const int shadow_flags = flags & ~(kMapFixed | kMapFixedNoReplace);
  const auto o = shadow_.Mmap(0, length, prot, shadow_flags, real == kLetShadowPlace ? 0 : real);
  if (real != kLetShadowPlace) {
    if (o.error != 0 || o.address != real) {
      if (o.error == 0) shadow_.Munmap(o.address, len);
      Unmap(real, len);
      return VmResult{0, static_cast<uint32_t>(o.error != 0 ? o.error : kEnomem)};
    }
    return VmResult{real, 0};
  }
  if (o.error == kEnomem) ++out_of_space_;
  if (o.error != 0) return VmResult{0, static_cast<uint32_t>(o.error)};
  if (prot != PROT_NONE) Protect(o.address, len, prot);
  return VmResult{o.address, 0};
}

uint32_t RealVmBackend::Munmap(uint64_t address, uint64_t length) {
  if (AtMappingLimit()) return static_cast<uint32_t>(linux_abi::kEnomem);  // as Linux does
  const auto parts = AllocatedSubranges(shadow_, address, address + PageUp(length));
  const int error = shadow_.Munmap(address, length);
  if (error != 0) return static_cast<uint32_t>(error);
  for (const auto& [s, e] : parts) Unmap(s, e - s);
  return 0;
}

uint32_t RealVmBackend::Mprotect(uint64_t address, uint64_t length, int prot) {
  if (AtMappingLimit()) return static_cast<uint32_t>(linux_abi::kEnomem);
  const int error = shadow_.Mprotect(address, length, prot);
  if (error != 0) return static_cast<uint32_t>(error);
  Protect(address, PageUp(length), prot);
  return 0;
}

uint32_t RealVmBackend::Madvise(uint64_t address, uint64_t length, int advice) {
  using namespace linux_abi;
  const auto parts = AllocatedSubranges(shadow_, address, address + PageUp(length));
  const int error = shadow_.Madvise(address, length, advice);
  if (advice == kMadvDontNeed || advice == kMadvFree || advice == kMadvRemove) {
    for (const auto& [s, e] : parts)
      Discard(s, e - s, advice == kMadvFree ? MADV_FREE : MADV_DONTNEED);
  }
  return static_cast<uint32_t>(error);
}

VmStats RealVmBackend::stats() const {
  VmStats s;
  const sim::Metrics& m = shadow_.metrics();
  s.committed_bytes = m.committed_bytes;
  s.peak_committed_bytes = m.peak_committed_bytes;
  s.peak_committed_event = m.peak_committed_event;
  s.reserved_bytes = m.reserved_bytes;
  s.peak_reserved_bytes = m.peak_reserved_bytes;
  s.peak_reserved_event = m.peak_reserved_event;
  s.syscalls = syscalls_.counts();
  s.rss_high_water_bytes = RssHighWater();
  s.out_of_space = out_of_space_;
  return s;
}

}  // namespace vmreplay::replay
