// `os`: the real operating system (Linux). A Win32 reservation is an anonymous PROT_NONE
// MAP_NORESERVE mapping (aligned to the allocation granularity by over-mapping and trimming), a
// commit is mprotect to the requested protection, a decommit madvise(MADV_DONTNEED) +
// mprotect(PROT_NONE), a release munmap. POSIX calls map onto mmap / munmap / mprotect / madvise /
// mremap directly (file mappings become anonymous: the files are not available at replay).
//
// Win32 and POSIX semantics, error codes and commit accounting come from a shadow simulator
// address space that mirrors exactly what this platform mapped. A system call is issued only after
// the shadow accepted the call, and only on memory the platform itself mapped: never on memory the
// replayer does not own, so no trace can make it touch, map or protect foreign memory.
//
// Safe by default: commits are refused beyond the machine's commit limit (RAM + swap from
// /proc/meminfo, or CommitLimit when vm.overcommit_memory = 2 makes the kernel enforce it) or
// --commit-limit, with a one-line warning the first time; and mapping calls stop short of the
// kernel's per-process mapping limit (vm.max_map_count). System calls are counted per kind; the
// RSS high-water mark is read from /proc/self/status.
#pragma once

#include <map>

#include "replayer/platforms/linux_vm.h"
#include "replayer/platforms/platform.h"
#include "simulator/address_space.h"

namespace vmreplay::replay {

// The commit limit the os platform applies when none is given: see above. 0 when unknown.
uint64_t MachineCommitLimit();

class OsPlatform final : public Platform {
 public:
  explicit OsPlatform(const PlatformOptions& options);
  ~OsPlatform() override;
  std::string_view name() const override { return "os"; }
  CompareMode compare_mode() const override { return CompareMode::kSuccessOnly; }
  bool identity_addresses() const override { return false; }

  uint64_t VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                        uint32_t* error) override {
    return shadow_.VirtualQuery(address, info, error);
  }
  uint64_t CommittedIn(uint64_t start, uint64_t end) const override {
    return shadow_.ChargedIn(start, end);
  }
  std::pair<uint64_t, uint64_t> user_range() const override {
    return {shadow_.config().min_address, shadow_.config().max_address};
  }
  uint64_t commit_limit() const override { return shadow_.config().commit_limit; }
  uint64_t page_size() const override { return page_size_; }
  uint64_t allocation_granularity() const override {
    return shadow_.config().allocation_granularity;
  }
  void set_event_index(uint64_t index) override { shadow_.set_event_index(index); }
  uint64_t committed_bytes() const override { return shadow_.metrics().committed_bytes; }
  uint64_t reserved_bytes() const override { return shadow_.metrics().reserved_bytes; }
  // The 128 TiB address space is shared with the replayer itself: no meaningful figure.
  std::optional<double> fragmentation() const override { return std::nullopt; }

  const sim::AddressSpace& shadow() const { return shadow_; }

 protected:
  VmResult DoVirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                          uint64_t recorded_address) override;
  uint32_t DoVirtualFree(uint64_t address, uint64_t size, uint32_t free_type) override;
  uint32_t DoVirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                            uint32_t* old_protect) override;
  VmResult DoMmap(uint64_t address, uint64_t length, int prot, int flags,
                  uint64_t recorded_address) override;
  uint32_t DoMunmap(uint64_t address, uint64_t length) override;
  uint32_t DoMprotect(uint64_t address, uint64_t length, int prot) override;
  uint32_t DoMadvise(uint64_t address, uint64_t length, int advice) override;
  VmResult DoMremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                    uint64_t new_address, uint64_t recorded_address) override;
  void DoAdviseHugePages(uint64_t address, uint64_t length) override;
  PlatformStats DoStats() const override;

 private:
  // True when one more mapping change could exceed vm.max_map_count: past it every mmap fails,
  // the replayer's own malloc included. Such calls are refused as out of space (said once).
  bool AtMappingLimit();
  // True when the shadow could refuse a new mapping of `size` (past the address space, or a
  // commit past the commit limit): it is asked first, before any real mmap.
  bool WouldRefuse(uint64_t size, bool commit, bool coarse) const;
  // Says once on stderr that the commit limit refused a commit.
  void NoteCommitLimit(uint32_t win32_or_errno);

  // Real memory for a new mapping of `length` bytes aligned to `alignment` with `prot`, or 0.
  uint64_t PlaceNew(uint64_t length, uint64_t alignment, int prot);
  // Makes [address, address + length), free in the shadow, owned by the platform (PROT_NONE).
  bool MapFixed(uint64_t address, uint64_t length);
  void Unmap(uint64_t address, uint64_t length);
  // Replaces the contents of owned pages by fresh zero pages with `prot` (MAP_FIXED over own).
  void Replace(uint64_t address, uint64_t length, int prot);
  // Real operations on owned memory. A failing system call is counted as "KIND failed".
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
  bool warned_commit_limit_ = false;
  std::map<uint64_t, uint64_t> reservations_;  // Win32 reservation base -> bytes
};

}  // namespace vmreplay::replay
