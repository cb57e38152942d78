#include "replayer/os_backend.h"

#include <sys/mman.h>

#include <cerrno>

#include "simulator/posix_constants.h"

namespace vmreplay::replay {
namespace {

sim::AddressSpaceConfig ShadowConfig(const VmBackendOptions& options) {
  sim::AddressSpaceConfig c =
      options.windows ? sim::AddressSpaceConfig::Win64() : sim::AddressSpaceConfig::Linux64();
  if (!options.windows) c.allocation_granularity = c.page_size;
  // The shadow mirrors the kernel's placement: every new range goes where mmap put it.
  c.placement = sim::Placement::kLayoutFaithful;
  c.commit_limit = options.commit_limit;
  c.physical_memory = options.physical_memory;
  return c;
}

constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

}  // namespace

OsBackend::OsBackend(const VmBackendOptions& options) : RealVmBackend(ShadowConfig(options)) {}

OsBackend::~OsBackend() {
  // Give back everything still mapped.
  std::vector<std::pair<uint64_t, uint64_t>> live;
  for (auto it = shadow_.regions().begin(); it != shadow_.regions().end(); ++it) {
    live.emplace_back(it->first, it->second.end);
  }
  for (const auto& [s, e] : live) munmap(reinterpret_cast<void*>(s), e - s);
}

uint64_t OsBackend::PlaceNew(uint64_t length, uint64_t alignment, int prot) {
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

bool OsBackend::MapFixed(uint64_t address, uint64_t length) {
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

void OsBackend::Unmap(uint64_t address, uint64_t length) {
  syscalls_.Add("munmap");
  munmap(reinterpret_cast<void*>(address), length);
}

void OsBackend::Replace(uint64_t address, uint64_t length, int prot) {
  syscalls_.Add("mmap");
  mmap(reinterpret_cast<void*>(address), length, prot, kAnon | MAP_FIXED, -1, 0);
}

VmResult OsBackend::Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                           uint64_t, uint64_t) {
  using namespace linux_abi;
  if (old_size == 0 || new_size == 0 ||
      !FullyAllocated(shadow_, address, address + PageUp(old_size))) {
    // Let the shadow give the Linux answer without touching memory the backend does not own.
    const auto o = shadow_.Mremap(address, old_size, new_size, flags & ~kMremapFixed, 0, 0);
    if (o.error == 0) shadow_.Munmap(o.address, new_size);  // Cannot happen; stay consistent.
    return VmResult{0, static_cast<uint32_t>(o.error != 0 ? o.error : kEfault)};
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

}  // namespace vmreplay::replay
