// `arena`: one large PROT_NONE MAP_NORESERVE region is reserved when the backend is created;
// reservations and mappings are then served inside it without any system call, placed by
// address-ordered first fit on the allocation granularity (64 KiB for Win32 traces, the page for
// Linux ones), the simulator's bottom-up policy over its free-block index. Commits are mprotect,
// decommits and releases madvise(MADV_DONTNEED) + mprotect(PROT_NONE): the region stays reserved.
// When no free block is large enough the call fails with ERROR_NOT_ENOUGH_MEMORY / ENOMEM and is
// counted as "out of space" (the arena is exhausted: raise --arena-size).
#pragma once

#include "replayer/real_vm_backend.h"

namespace vmreplay::replay {

class ArenaBackend final : public RealVmBackend {
 public:
  ~ArenaBackend() override;
  // Reserves the arena (options.arena_size bytes); error when the system refuses.
  static Status Create(const VmBackendOptions& options, std::unique_ptr<VmBackend>* out);

  std::string_view name() const override { return "arena"; }
  VmResult Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                  uint64_t new_address, uint64_t recorded_address) override;
  // Fragmentation of the arena's own free space.
  std::optional<double> fragmentation() const override { return shadow_.metrics().fragmentation(); }
  VmStats stats() const override;
  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }

 protected:
  uint64_t PlaceNew(uint64_t, uint64_t, int) override { return kLetShadowPlace; }
  bool MapFixed(uint64_t, uint64_t) override { return true; }  // Already reserved.
  void Unmap(uint64_t address, uint64_t length) override { Decommit(address, length); }
  void Replace(uint64_t address, uint64_t length, int prot) override;

 private:
  ArenaBackend(const sim::AddressSpaceConfig& config, uint64_t base, uint64_t mapped,
               uint64_t mapped_size, uint64_t size);
  uint64_t base_ = 0;
  uint64_t mapped_ = 0;  // what mmap returned (before alignment), for munmap
  uint64_t mapped_size_ = 0;
  uint64_t size_ = 0;
};

}  // namespace vmreplay::replay
