#include "replayer/arena_backend.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "simulator/posix_constants.h"

namespace vmreplay::replay {

ArenaBackend::ArenaBackend(const sim::AddressSpaceConfig& config, uint64_t base, uint64_t mapped,
                           uint64_t mapped_size, uint64_t size)
    : RealVmBackend(config), base_(base), mapped_(mapped), mapped_size_(mapped_size), size_(size) {
  syscalls_.Add("mmap");  // The arena itself.
}

ArenaBackend::~ArenaBackend() { munmap(reinterpret_cast<void*>(mapped_), mapped_size_); }

Status ArenaBackend::Create(const VmBackendOptions& options, std::unique_ptr<VmBackend>* out) {
  const uint64_t granularity = options.windows ? options.allocation_granularity : options.page_size;
  const uint64_t size = (options.arena_size + granularity - 1) & ~(granularity - 1);
  if (size == 0) return Status::Error("arena: --arena-size must be positive");
  const uint64_t mapped_size = size + granularity;
  void* p =
      mmap(nullptr, mapped_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    return Status::Error("arena: cannot reserve " + std::to_string(size) +
                         " bytes: " + std::strerror(errno));
  }
  const uint64_t mapped = reinterpret_cast<uint64_t>(p);
  const uint64_t base = (mapped + granularity - 1) & ~(granularity - 1);
  sim::AddressSpaceConfig c;
  c.page_size = options.page_size;
  c.allocation_granularity = granularity;
  c.min_address = base;
  c.max_address = base + size - 1;
  c.commit_limit = options.commit_limit;
  c.physical_memory = options.physical_memory;
  c.placement = sim::Placement::kBottomUp;
  c.mmap_top_down = false;
  if (std::string problem = c.Validate(); !problem.empty()) {
    munmap(p, mapped_size);
    return Status::Error("arena: " + problem);
  }
  out->reset(new ArenaBackend(c, base, mapped, mapped_size, size));
  return Status::Ok();
}

void ArenaBackend::Replace(uint64_t address, uint64_t length, int prot) {
  Discard(address, length, MADV_DONTNEED);
  Protect(address, length, prot);
}

VmResult ArenaBackend::Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                              uint64_t, uint64_t) {
  using namespace linux_abi;
  // Placement inside the arena only: MREMAP_FIXED targets are not honoured.
  const auto o = shadow_.Mremap(address, old_size, new_size, flags & kMremapMayMove, 0, 0);
  if (o.error == kEnomem) ++out_of_space_;
  if (o.error != 0) return VmResult{0, static_cast<uint32_t>(o.error)};
  const uint64_t old_len = PageUp(old_size);
  const uint64_t new_len = PageUp(new_size);
  // Contents are not carried over (the replay never reads them); protections become RW.
  if (o.address == address) {
    if (new_len > old_len) Protect(address + old_len, new_len - old_len, PROT_READ | PROT_WRITE);
    if (new_len < old_len) Decommit(address + new_len, old_len - new_len);
  } else {
    Protect(o.address, new_len, PROT_READ | PROT_WRITE);
    Decommit(address, old_len);
  }
  return VmResult{o.address, 0};
}

VmStats ArenaBackend::stats() const {
  VmStats s = RealVmBackend::stats();
  s.fragmentation = shadow_.metrics().fragmentation();
  s.largest_free_block = shadow_.metrics().largest_free_block;
  return s;
}

}  // namespace vmreplay::replay
