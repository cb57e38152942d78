// A simulated user-mode virtual address space with Win32 (VirtualAlloc family) and Linux (mmap
// family) operations over one structure, for replaying recorded traces without touching memory.
//
// Guarantees:
//  - Win32 semantics follow the documented (and, where the documentation is silent, the Windows
//    kernel's) behaviour: page rounding of ranges, reservation bases on the allocation granularity,
//    commit only inside one reservation, MEM_RELEASE only of a whole reservation, VirtualProtect
//    only on committed pages, VirtualQuery's region coalescing, and the GetLastError value of every
//    failure (see error_policy.h, the single table of error codes). simulator/README.md lists each
//    rule with its source.
//  - Deterministic: the same sequence of calls yields the same addresses and metrics.
//  - Every operation costs O(log n) in the number of regions and free blocks, plus work
//    proportional to the number of regions the call's range covers.
//  - Metrics (metrics.h) are exact after every call.
//  - Not thread-safe; a replay applies events in order on one thread.
#ifndef VMREPLAY_SIMULATOR_ADDRESS_SPACE_H_
#define VMREPLAY_SIMULATOR_ADDRESS_SPACE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "simulator/address_space_config.h"
#include "simulator/free_space_index.h"
#include "simulator/metrics.h"
#include "simulator/region.h"
#include "simulator/region_map.h"

namespace vmreplay::sim {

// Outcome of a call: Win32 style. `error` is the GetLastError value, 0 on success.
struct AllocOutcome {
  uint64_t address = 0;
  uint32_t error = 0;
};

class AddressSpace {
 public:
  // REQUIRES: config.Validate() is empty (checked with assert in debug builds).
  explicit AddressSpace(const AddressSpaceConfig& config);
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  // ---------------------------------------------------------------- Win32 mode

  // VirtualAlloc(address, size, allocation_type, protect). On success returns the base of the
  // affected range: the reservation base (rounded down to the allocation granularity) for
  // MEM_RESERVE, the first page for MEM_COMMIT / MEM_RESET at an address.
  // `recorded_address`: in kLayoutFaithful mode, where the recorded call's NULL-address
  // reservation landed (0 = unknown, use the policy). Ignored in kBottomUp mode and when `address`
  // is not NULL.
  AllocOutcome VirtualAlloc(uint64_t address, uint64_t size, uint32_t allocation_type,
                            uint32_t protect, uint64_t recorded_address = 0);
  // VirtualFree(address, size, free_type). Returns the error, 0 = success.
  uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type);
  // VirtualProtect(address, size, new_protect, old_protect). Returns the error, 0 = success;
  // *old_protect receives the protection of the range's first page.
  uint32_t VirtualProtect(uint64_t address, uint64_t size, uint32_t new_protect,
                          uint32_t* old_protect);
  // VirtualQuery(address, info, sizeof *info). Returns the bytes written (sizeof Win32
  // MEMORY_BASIC_INFORMATION: 48, or 28 when the address space is 32-bit) and sets *error to 0, or
  // returns 0 with *error set (address above max_address: ERROR_INVALID_PARAMETER). `error` may be
  // NULL.
  uint64_t VirtualQuery(uint64_t address, MemoryBasicInformation* info, uint32_t* error);

  // ---------------------------------------------------------------- POSIX mode
  // Linux traces on the same structure. Constants are Linux's (posix_constants.h); results are 0 or
  // an errno value. Mapping model: an accessible page is committed, a PROT_NONE page reserved;
  // each mmap call is one allocation (its start is the allocation base); munmap releases.

  struct MmapOutcome {
    uint64_t address = 0;
    int error = 0;
  };
  // mmap(addr, length, prot, flags, fd, 0). MAP_FIXED replaces what is mapped there;
  // MAP_FIXED_NOREPLACE fails with EEXIST instead. Without them, `addr` is a hint used when free.
  // Committed pages of MAP_SHARED file mappings are not charged against the commit limit.
  MmapOutcome Mmap(uint64_t addr, uint64_t length, int prot, int flags,
                   uint64_t recorded_address = 0);
  // munmap: releases every mapped page in the range; partial unmaps split regions. Unmapped pages
  // in the range are fine (Linux semantics).
  int Munmap(uint64_t addr, uint64_t length);
  // mprotect: PROT_NONE decommits (the pages stop counting as committed), any other protection
  // commits. Every page must be mapped (else ENOMEM, nothing changed).
  int Mprotect(uint64_t addr, uint64_t length, int prot);
  // madvise: MADV_DONTNEED, MADV_FREE and MADV_REMOVE decommit the mapped pages of the range
  // (they no longer count as committed); other known advice is a no-op. ENOMEM when part of the
  // range is unmapped (the mapped part is still advised, as Linux does).
  int Madvise(uint64_t addr, uint64_t length, int advice);
  // mremap: shrink in place, grow in place when the following pages are free, else move when
  // MREMAP_MAYMOVE (to new_addr with MREMAP_FIXED, else to `recorded_address` in layout-faithful
  // mode when free, else by policy). The old range must lie in one mapping (EFAULT otherwise).
  // old_size == 0 (duplicating a shared mapping) and MREMAP_DONTUNMAP are not modelled: EINVAL.
  MmapOutcome Mremap(uint64_t old_addr, uint64_t old_size, uint64_t new_size, int flags,
                     uint64_t new_addr, uint64_t recorded_address = 0);

  // A mapping the recorded process had before its first recorded call (Header.initial_mappings):
  // placed at [start, start + length) with POSIX protection `prot`, MAP_SHARED when `shared`,
  // file-backed when `file`. It takes part in placement, mremap growth, VirtualQuery and the
  // free-space figures; the trace may unmap or protect it; it is never counted as committed or
  // reserved. Returns false (nothing placed) when the range is not page-aligned, leaves user
  // space or is not free.
  bool PlaceForeign(uint64_t start, uint64_t length, int prot, bool shared, bool file);

  // ---------------------------------------------------------------- State

  const Metrics& metrics() const { return metrics_; }
  const AddressSpaceConfig& config() const { return config_; }
  // The engine tells which trace event is being applied, for the peak-at-event-index metrics.
  void set_event_index(uint64_t index) { event_index_ = index; }
  uint64_t event_index() const { return event_index_; }

  // Charged (committed) bytes inside [start, end).
  uint64_t ChargedIn(uint64_t start, uint64_t end) const;
  // The allocation (Win32 reservation, or one mmap call's pages) holding `addr`, as
  // [allocation base, end of its contiguous regions); nullopt when `addr` is free.
  std::optional<std::pair<uint64_t, uint64_t>> AllocationContaining(uint64_t addr) const;

  const RegionMap& regions() const { return regions_; }
  const FreeSpaceIndex& free_space() const { return free_; }
  // Full consistency check (region map, free index, metrics recomputed from scratch). O(n); for
  // tests. Empty string when consistent.
  std::string CheckInvariants() const;

 private:
  uint64_t PageDown(uint64_t a) const { return a & ~(config_.page_size - 1); }
  uint64_t GranuleDown(uint64_t a) const { return a & ~(config_.allocation_granularity - 1); }
  // Page-rounded end of [addr, addr + size), or nullopt when it passes the end of user space
  // (including arithmetic wrap-around).
  std::optional<uint64_t> RangeEnd(uint64_t addr, uint64_t size) const;
  uint64_t user_end() const { return config_.max_address + 1; }

  // Address for a new allocation of `size` bytes (see Placement). `hint`, when non-zero, is tried
  // first (POSIX mmap hint). Counts layout-faithful fallbacks.
  std::optional<uint64_t> Place(uint64_t size, bool coarse, bool top_down, uint64_t hint,
                                uint64_t recorded);
  // Visits the regions covering [start, end) in order, clipped to the range. Returns false (after
  // visiting a prefix) when some page of the range is unallocated or, with `one_allocation`, when
  // the regions do not all belong to the allocation of the first one.
  template <typename F>
  bool Walk(uint64_t start, uint64_t end, bool one_allocation, F&& visit) const;
  // End of the allocation (contiguous regions sharing its allocation base) containing `it`.
  uint64_t AllocationEnd(RegionMap::const_iterator it) const;

  // Adds an allocation at the free range [start, region.end) and accounts for it.
  void MapNew(uint64_t start, const Region& region);
  // Inserts regions already removed from the free index, and accounts for them.
  void InsertAllocated(uint64_t start, const Region& region);
  // Releases every allocated page in [start, end) and accounts for it.
  void Unmap(uint64_t start, uint64_t end);
  // Sets state/protect of every allocated page in [start, end) (gaps skipped) with accounting.
  // With `skip_uncharged`, regions whose pages are not charged (shared file mappings, foreign
  // mappings) keep theirs.
  void SetState(uint64_t start, uint64_t end, uint32_t state, uint32_t protect,
                bool skip_uncharged = false);

  void AddCommitted(uint64_t bytes);
  void SubCommitted(uint64_t bytes) { metrics_.committed_bytes -= bytes; }
  void AddReserved(uint64_t bytes);
  void SubReserved(uint64_t bytes) { metrics_.reserved_bytes -= bytes; }
  bool CommitWouldExceed(uint64_t add, uint64_t sub) const {
    return metrics_.committed_bytes - sub + add > config_.commit_limit ||
           metrics_.committed_bytes - sub + add < metrics_.committed_bytes - sub;  // Overflow.
  }
  // Refreshes the free-space figures after a call that changed the layout.
  void UpdateLayoutMetrics();
  uint32_t Fail(uint32_t error) {
    ++metrics_.failed_calls;
    return error;
  }
  int FailErrno(int error) {
    ++metrics_.failed_calls;
    return error;
  }

  AddressSpaceConfig config_;
  RegionMap regions_;
  FreeSpaceIndex free_;
  Metrics metrics_;
  uint64_t event_index_ = 0;
  uint64_t next_fit_ = 0;  // kNextFit: where the last placement ended
};

template <typename F>
bool AddressSpace::Walk(uint64_t start, uint64_t end, bool one_allocation, F&& visit) const {
  auto it = regions_.Find(start);
  if (it == regions_.end()) return false;
  const uint64_t allocation = it->second.allocation_base;
  uint64_t cursor = start;
  while (true) {
    if (one_allocation && it->second.allocation_base != allocation) return false;
    const uint64_t clip_end = it->second.end < end ? it->second.end : end;
    visit(cursor, clip_end, it->second);
    cursor = clip_end;
    if (cursor >= end) return true;
    ++it;
    if (it == regions_.end() || it->first != cursor) return false;
  }
}

}  // namespace vmreplay::sim

#endif  // VMREPLAY_SIMULATOR_ADDRESS_SPACE_H_
