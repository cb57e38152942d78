// Common part of the backends that use real memory (os, arena): Win32 and POSIX semantics, error
// codes and commit accounting come from a shadow simulator address space that mirrors exactly
// what the backend mapped; the real system calls are issued only after the shadow accepted the
// call, and only on memory the backend itself mapped (never on memory the replayer does not own).
// Subclasses decide where reservations come from and how a range is given back.
#pragma once

#include <map>

#include "replayer/linux_vm.h"
#include "replayer/vm_backend.h"
#include "simulator/address_space.h"

namespace vmreplay::replay {

class RealVmBackend : public VmBackend {
 public:
  CompareMode compare_mode() const override { return CompareMode::kSuccessOnly; }
  bool identity_addresses() const override { return false; }

  VmResult VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                        uint64_t recorded_address) override;
  uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) override;
  uint32_t VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                          uint32_t* old_protect) override;
  uint64_t VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                        uint32_t* error) override {
    return shadow_.VirtualQuery(address, info, error);
  }
  VmResult Mmap(uint64_t address, uint64_t length, int prot, int flags,
                uint64_t recorded_address) override;
  uint32_t Munmap(uint64_t address, uint64_t length) override;
  uint32_t Mprotect(uint64_t address, uint64_t length, int prot) override;
  uint32_t Madvise(uint64_t address, uint64_t length, int advice) override;

  void set_event_index(uint64_t index) override { shadow_.set_event_index(index); }
  uint64_t committed_bytes() const override { return shadow_.metrics().committed_bytes; }
  VmStats stats() const override;

  const sim::AddressSpace& shadow() const { return shadow_; }

 protected:
  explicit RealVmBackend(const sim::AddressSpaceConfig& shadow_config);

  // Real memory for a new reservation / mapping of `length` bytes aligned to `alignment` with
  // `prot`, or 0 when the system refused; kLetShadowPlace: the shadow's own policy places it
  // (inside memory the backend already owns) and Commit then applies `prot`.
  static constexpr uint64_t kLetShadowPlace = UINT64_MAX;
  virtual uint64_t PlaceNew(uint64_t length, uint64_t alignment, int prot) = 0;
  // Makes [address, address + length), free in the shadow, owned by the backend (PROT_NONE).
  virtual bool MapFixed(uint64_t address, uint64_t length) = 0;
  // Gives back [address, address + length) (released / unmapped in the shadow).
  virtual void Unmap(uint64_t address, uint64_t length) = 0;
  // Replaces the contents of owned pages by fresh zero pages with `prot` (MAP_FIXED over own).
  virtual void Replace(uint64_t address, uint64_t length, int prot) = 0;

  // True when one more mapping change could exceed the kernel's per-process mapping limit
  // (vm.max_map_count): past it every mmap fails, the replayer's own malloc included. Such
  // calls are refused as out of space (and said once on stderr) instead.
  bool AtMappingLimit();

  // Shared real operations on owned memory. A failing system call is counted as "KIND failed".
  void Protect(uint64_t address, uint64_t length, int prot);
  void Discard(uint64_t address, uint64_t length, int advice);
  void Decommit(uint64_t address, uint64_t length);

  uint64_t PageDown(uint64_t a) const { return a & ~(page_size_ - 1); }
  uint64_t PageUp(uint64_t a) const { return (a + page_size_ - 1) & ~(page_size_ - 1); }

  sim::AddressSpace shadow_;
  SyscallCounter syscalls_;
  uint64_t page_size_;
  uint64_t out_of_space_ = 0;
  uint64_t mapping_budget_;  // regions the shadow may hold before AtMappingLimit
  bool warned_mapping_limit_ = false;
  std::map<uint64_t, uint64_t> reservations_;  // Win32 reservation base -> bytes
};

}  // namespace vmreplay::replay
