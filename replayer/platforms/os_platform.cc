#include "replayer/platforms/os_platform.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "replayer/platforms/sim_platform.h"
#include "simulator/posix_constants.h"
#include "simulator/win32_constants.h"

namespace vmreplay::replay {

uint64_t MachineCommitLimit() {
  uint64_t mem_total = 0, swap_total = 0, commit_limit = 0;
  if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      unsigned long long kib = 0;
      if (std::sscanf(line, "MemTotal: %llu kB", &kib) == 1) mem_total = kib * 1024;
      if (std::sscanf(line, "SwapTotal: %llu kB", &kib) == 1) swap_total = kib * 1024;
      if (std::sscanf(line, "CommitLimit: %llu kB", &kib) == 1) commit_limit = kib * 1024;
    }
    std::fclose(f);
  }
  int overcommit = 0;
  if (std::FILE* f = std::fopen("/proc/sys/vm/overcommit_memory", "r")) {
    if (std::fscanf(f, "%d", &overcommit) != 1) overcommit = 0;
    std::fclose(f);
  }
  if (overcommit == 2 && commit_limit != 0) return commit_limit;  // The kernel enforces it.
  return mem_total + swap_total;
}

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

sim::AddressSpaceConfig ShadowConfig(const PlatformOptions& options) {
  sim::AddressSpaceConfig c =
      options.windows ? sim::AddressSpaceConfig::Win64() : sim::AddressSpaceConfig::Linux64();
  if (!options.windows) c.allocation_granularity = c.page_size;
  // The shadow mirrors the kernel's placement: every new range goes where mmap put it.
  c.placement = sim::Placement::kLayoutFaithful;
  // Safe by default: no trace commits more than the machine could back (os_platform.h).
  const uint64_t machine = MachineCommitLimit();
  c.commit_limit = options.commit_limit != 0 ? options.commit_limit
                   : machine != 0            ? machine
                                             : UINT64_MAX;
  c.physical_memory = options.physical_memory;
  return c;
}

constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
// A zero-length reservation: no memory to map, the shadow gives Windows' answer.
constexpr uint64_t kLetShadowPlace = UINT64_MAX;

}  // namespace

OsPlatform::OsPlatform(const PlatformOptions& options)
    : shadow_(ShadowConfig(options)),
      page_size_(shadow_.config().page_size),
      mapping_budget_(MappingBudget()) {
  ResetRssHighWater();
}

OsPlatform::~OsPlatform() {
  // Give back everything still mapped.
  std::vector<std::pair<uint64_t, uint64_t>> live;
  for (auto it = shadow_.regions().begin(); it != shadow_.regions().end(); ++it) {
    live.emplace_back(it->first, it->second.end);
  }
  for (const auto& [s, e] : live) munmap(reinterpret_cast<void*>(s), e - s);
}

uint64_t OsPlatform::PlaceNew(uint64_t length, uint64_t alignment, int prot) {
  const uint64_t slack = alignment > page_size_ ? alignment : 0;
  syscalls_.Add("mmap");
  void* p = mmap(nullptr, length + slack, prot, kAnon, -1, 0);
  if (p == MAP_FAILED) return 0;
  const uint64_t raw = reinterpret_cast<uint64_t>(p);
  const uint64_t base = (raw + alignment - 1) & ~(alignment - 1);
  if (base > raw) {
    syscalls_.Add("munmap");
    munmap(p, base - raw);
  }
  if (raw + length + slack > base + length) {
    syscalls_.Add("munmap");
    munmap(reinterpret_cast<void*>(base + length), raw + length + slack - (base + length));
  }
  return base;
}

bool OsPlatform::MapFixed(uint64_t address, uint64_t length) {
  syscalls_.Add("mmap");
  void* p =
      mmap(reinterpret_cast<void*>(address), length, PROT_NONE, kAnon | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) return false;
  if (reinterpret_cast<uint64_t>(p) != address) {  // Kernels before 4.17 treat it as a hint.
    munmap(p, length);
    return false;
  }
  return true;
}

void OsPlatform::Unmap(uint64_t address, uint64_t length) {
  syscalls_.Add("munmap");
  munmap(reinterpret_cast<void*>(address), length);
}

void OsPlatform::Replace(uint64_t address, uint64_t length, int prot) {
  syscalls_.Add("mmap");
  mmap(reinterpret_cast<void*>(address), length, prot, kAnon | MAP_FIXED, -1, 0);
}

VmResult OsPlatform::DoMremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                              uint64_t, uint64_t) {
  using namespace linux_abi;
  if (old_size == 0 || new_size == 0 ||
      !FullyAllocated(shadow_, address, address + PageUp(old_size))) {
    // Let the shadow give the Linux answer without touching memory the platform does not own.
    const auto o = shadow_.Mremap(address, old_size, new_size, flags & ~kMremapFixed, 0, 0);
    if (o.error == 0) shadow_.Munmap(o.address, new_size);  // Cannot happen; stay consistent.
    return VmResult{0, static_cast<uint32_t>(o.error != 0 ? o.error : kEfault)};
  }
  // Growing a committed mapping past the commit limit: refused before the real call (the shadow
  // would refuse after it, with the kernel's mapping already moved).
  const uint64_t old_len = PageUp(old_size);
  const uint64_t new_len = PageUp(new_size);
  if (new_len > old_len && shadow_.ChargedIn(address, address + old_len) != 0 &&
      shadow_.metrics().committed_bytes + (new_len - old_len) > shadow_.config().commit_limit) {
    const auto o = shadow_.Mremap(address, old_size, new_size, flags & ~kMremapFixed, 0, 0);
    if (o.error == 0) {  // The shadow disagrees: cannot happen; undo to stay consistent.
      shadow_.Mremap(o.address, new_size, old_size, 0, 0, 0);
    }
    NoteCommitLimit(static_cast<uint32_t>(kEnomem));
    return VmResult{0, static_cast<uint32_t>(kEnomem)};
  }
  syscalls_.Add("mremap");
  void* p = mremap(reinterpret_cast<void*>(address), old_size, new_size,
                   (flags & kMremapMayMove) != 0 ? MREMAP_MAYMOVE : 0);
  if (p == MAP_FAILED) return VmResult{0, static_cast<uint32_t>(errno)};
  const uint64_t real = reinterpret_cast<uint64_t>(p);
  const int shadow_flags = real == address ? 0 : (kMremapMayMove | kMremapFixed);
  const auto o = shadow_.Mremap(address, old_size, new_size, shadow_flags, real, 0);
  if (o.error != 0) return VmResult{0, static_cast<uint32_t>(o.error)};
  return VmResult{real, 0};
}

bool OsPlatform::WouldRefuse(uint64_t size, bool commit, bool coarse) const {
  const sim::AddressSpaceConfig& c = shadow_.config();
  const uint64_t span = c.max_address + 1 - c.min_address;
  const uint64_t length = size > span ? span + 1 : PageUp(size);
  if (length == 0 || length > span) return true;
  if (coarse && length > span - c.allocation_granularity) return true;
  const uint64_t committed = shadow_.metrics().committed_bytes;
  return commit && (length > c.commit_limit || committed > c.commit_limit - length);
}

bool OsPlatform::AtMappingLimit() {
  // A call can split at most two regions into three: keep that much slack.
  if (shadow_.metrics().region_count + 2 < mapping_budget_) return false;
  ++out_of_space_;
  if (!warned_mapping_limit_) {
    warned_mapping_limit_ = true;
    std::fprintf(
        stderr,
        "vmreplay: %s platform: %llu regions mapped, near the kernel's per-process mapping "
        "limit (vm.max_map_count); further mapping calls fail as out of space\n",
        std::string(name()).c_str(),
        static_cast<unsigned long long>(shadow_.metrics().region_count));
  }
  return true;
}

void OsPlatform::Protect(uint64_t address, uint64_t length, int prot) {
  syscalls_.Add("mprotect");
  if (mprotect(reinterpret_cast<void*>(address), length, prot) != 0) {
    syscalls_.Add("mprotect failed");
  }
}

void OsPlatform::Discard(uint64_t address, uint64_t length, int advice) {
  syscalls_.Add("madvise");
  if (madvise(reinterpret_cast<void*>(address), length, advice) != 0) {
    syscalls_.Add("madvise failed");
  }
}

void OsPlatform::Decommit(uint64_t address, uint64_t length) {
  Discard(address, length, MADV_DONTNEED);
  Protect(address, length, PROT_NONE);
}

VmResult OsPlatform::DoVirtualAlloc(uint64_t address, uint64_t size, uint32_t type,
                                    uint32_t protect, uint64_t) {
  if (AtMappingLimit()) return VmResult{0, win32::kErrorNotEnoughMemory};
  const bool commit = (type & win32::kMemCommit) != 0;
  // MEM_COMMIT alone at NULL reserves too (Windows commits a new reservation).
  const bool reserve = (type & win32::kMemReserve) != 0 || (address == 0 && commit);
  const uint64_t granularity = shadow_.config().allocation_granularity;
  sim::AllocOutcome o;
  if (reserve && address == 0) {
    // What the shadow must refuse (a size past the address space, a commit past the limit) is
    // refused before any real mapping.
    if (WouldRefuse(size, commit, true)) {
      const sim::AllocOutcome o = shadow_.VirtualAlloc(0, size, type, protect, 0);
      if (o.error != 0) {
        if (o.error == win32::kErrorNotEnoughMemory) ++out_of_space_;
        NoteCommitLimit(o.error);
        return VmResult{0, o.error};
      }
      shadow_.VirtualFree(o.address, 0, win32::kMemRelease);  // Cannot happen; stay consistent.
    }
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
      NoteCommitLimit(o.error);
      return VmResult{0, o.error != 0 ? o.error : win32::kErrorNotEnoughMemory};
    }
    if (o.error == win32::kErrorNotEnoughMemory) ++out_of_space_;
    if (o.error != 0) return VmResult{0, o.error};
    reservations_[o.address] = length;
  } else if (reserve) {
    o = shadow_.VirtualAlloc(address, size, type, protect, 0);
    if (o.error != 0) {
      NoteCommitLimit(o.error);
      return VmResult{0, o.error};
    }
    const uint64_t length = PageUp(address + size) - o.address;
    if (!MapFixed(o.address, length)) {
      shadow_.VirtualFree(o.address, 0, win32::kMemRelease);
      return VmResult{0, win32::kErrorInvalidAddress};
    }
    reservations_[o.address] = length;
  } else {
    o = shadow_.VirtualAlloc(address, size, type, protect, 0);
    if (o.error != 0) {
      NoteCommitLimit(o.error);
      return VmResult{0, o.error};
    }
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

uint32_t OsPlatform::DoVirtualFree(uint64_t address, uint64_t size, uint32_t free_type) {
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

uint32_t OsPlatform::DoVirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                                      uint32_t* old_protect) {
  if (AtMappingLimit()) return win32::kErrorNotEnoughMemory;
  const uint32_t error = shadow_.VirtualProtect(address, size, protect, old_protect);
  if (error != 0) return error;
  Protect(PageDown(address), PageUp(address + size) - PageDown(address), ProtFromWin32(protect));
  return 0;
}

VmResult OsPlatform::DoMmap(uint64_t address, uint64_t length, int prot, int flags, uint64_t) {
  using namespace linux_abi;
  if (AtMappingLimit()) return VmResult{0, static_cast<uint32_t>(kEnomem)};
  const uint64_t len = PageUp(length);
  if ((flags & (kMapFixed | kMapFixedNoReplace)) != 0) {
    // Only ever over memory this platform owns (the engine translated the address into it).
    if (len == 0 || !FullyAllocated(shadow_, address, address + len)) {
      return VmResult{0, static_cast<uint32_t>(kEinval)};
    }
    const auto o = shadow_.Mmap(address, length, prot, flags, 0);
    if (o.error != 0) return VmResult{0, static_cast<uint32_t>(o.error)};
    Replace(address, len, prot);
    return VmResult{o.address, 0};
  }
  if (len == 0) return VmResult{0, static_cast<uint32_t>(kEinval)};
  const int shadow_flags = flags & ~(kMapFixed | kMapFixedNoReplace);
  const bool charged =
      prot != PROT_NONE && ((flags & MAP_TYPE) == MAP_PRIVATE || (flags & MAP_ANONYMOUS) != 0);
  if (WouldRefuse(length, charged, false)) {  // As for VirtualAlloc: before any real mapping.
    const auto o = shadow_.Mmap(0, length, prot, shadow_flags, 0);
    if (o.error != 0) {
      NoteCommitLimit(static_cast<uint32_t>(o.error));
      return VmResult{0, static_cast<uint32_t>(o.error)};
    }
    shadow_.Munmap(o.address, len);  // Cannot happen; stay consistent.
  }
  const uint64_t real = PlaceNew(len, page_size_, prot);
  if (real == 0) {
    ++out_of_space_;
    return VmResult{0, static_cast<uint32_t>(kEnomem)};
  }
  const auto o = shadow_.Mmap(0, length, prot, shadow_flags, real);
  if (o.error != 0 || o.address != real) {
    if (o.error == 0) shadow_.Munmap(o.address, len);
    Unmap(real, len);
    NoteCommitLimit(static_cast<uint32_t>(o.error));
    return VmResult{0, static_cast<uint32_t>(o.error != 0 ? o.error : kEnomem)};
  }
  return VmResult{real, 0};
}

uint32_t OsPlatform::DoMunmap(uint64_t address, uint64_t length) {
  if (AtMappingLimit()) return static_cast<uint32_t>(linux_abi::kEnomem);  // as Linux does
  const auto parts = AllocatedSubranges(shadow_, address, address + PageUp(length));
  const int error = shadow_.Munmap(address, length);
  if (error != 0) return static_cast<uint32_t>(error);
  for (const auto& [s, e] : parts) Unmap(s, e - s);
  return 0;
}

uint32_t OsPlatform::DoMprotect(uint64_t address, uint64_t length, int prot) {
  if (AtMappingLimit()) return static_cast<uint32_t>(linux_abi::kEnomem);
  const int error = shadow_.Mprotect(address, length, prot);
  if (error != 0) {
    NoteCommitLimit(static_cast<uint32_t>(error));
    return static_cast<uint32_t>(error);
  }
  Protect(address, PageUp(length), prot);
  return 0;
}

uint32_t OsPlatform::DoMadvise(uint64_t address, uint64_t length, int advice) {
  using namespace linux_abi;
  const auto parts = AllocatedSubranges(shadow_, address, address + PageUp(length));
  const int error = shadow_.Madvise(address, length, advice);
  if (advice == kMadvDontNeed || advice == kMadvFree || advice == kMadvRemove) {
    for (const auto& [s, e] : parts)
      Discard(s, e - s, advice == kMadvFree ? MADV_FREE : MADV_DONTNEED);
  }
  return static_cast<uint32_t>(error);
}

void OsPlatform::DoAdviseHugePages(uint64_t address, uint64_t length) {
  for (const auto& [s, e] : AllocatedSubranges(shadow_, address, address + PageUp(length))) {
    syscalls_.Add("madvise");
    if (madvise(reinterpret_cast<void*>(s), e - s, MADV_HUGEPAGE) != 0) {
      syscalls_.Add("madvise failed");
    }
  }
}

void OsPlatform::NoteCommitLimit(uint32_t error) {
  if (error == 0 || warned_commit_limit_ || shadow_.metrics().commit_limit_failures == 0) return;
  warned_commit_limit_ = true;
  std::fprintf(stderr,
               "vmreplay: os platform: a commit past the commit limit of %llu bytes was refused "
               "(the machine's RAM + swap by default; --commit-limit sets another)\n",
               static_cast<unsigned long long>(shadow_.config().commit_limit));
}

PlatformStats OsPlatform::DoStats() const {
  PlatformStats s = StatsFromSim(shadow_.metrics(), shadow_.config().commit_limit);
  s.fragmentation = std::nullopt;  // Shared with the replayer's own mappings: see fragmentation().
  s.largest_free_block = std::nullopt;
  s.syscalls = syscalls_.counts();
  s.rss_high_water_bytes = RssHighWater();
  s.out_of_space = out_of_space_;
  return s;
}

}  // namespace vmreplay::replay
