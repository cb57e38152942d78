// One run of pages with identical attributes, and the Win32 view of it.
#ifndef VMREPLAY_SIMULATOR_REGION_H_
#define VMREPLAY_SIMULATOR_REGION_H_

#include <cstdint>

#include "simulator/win32_constants.h"

namespace vmreplay::sim {

// Exactly the fields of Win32's MEMORY_BASIC_INFORMATION (PartitionId, always 0, omitted).
struct MemoryBasicInformation {
  uint64_t base_address = 0;
  uint64_t allocation_base = 0;
  uint32_t allocation_protect = 0;
  uint64_t region_size = 0;
  uint32_t state = 0;
  uint32_t protect = 0;
  uint32_t type = 0;
  bool operator==(const MemoryBasicInformation&) const = default;
};

// A maximal run [start, end) of allocated (reserved or committed) pages that VirtualQuery would
// report as one region: same allocation, state and protection. The start is the key of the
// RegionMap entry and is not stored here.
struct Region {
  uint64_t end = 0;
  uint64_t allocation_base = 0;  // Start of the VirtualAlloc reservation / mmap call.
  uint32_t allocation_protect = 0;
  uint32_t state = 0;    // win32::kMemReserve or win32::kMemCommit.
  uint32_t protect = 0;  // 0 while reserved, as VirtualQuery reports it.
  uint32_t type = 0;     // win32::kMemPrivate or win32::kMemMapped.
  // Committed pages of this region are not charged against the commit limit (POSIX shared file
  // mappings: their pages are backed by the file, not by swap).
  bool uncharged = false;
  // Mapped before the recording began (AddressSpace::PlaceForeign): it occupies address space
  // but is never the trace's commit or reservation.
  bool foreign = false;

  // True when two adjacent regions must be one (the coalescing rule of VirtualQuery).
  bool SameAttributes(const Region& o) const {
    return allocation_base == o.allocation_base && allocation_protect == o.allocation_protect &&
           state == o.state && protect == o.protect && type == o.type && uncharged == o.uncharged &&
           foreign == o.foreign;
  }
  // Bytes of [start, end) this region charges against the commit limit.
  bool Charged() const { return state == win32::kMemCommit && !uncharged && !foreign; }
  // Bytes of [start, end) this region counts in reserved_bytes.
  bool Counted() const { return !foreign; }
};

}  // namespace vmreplay::sim

#endif  // VMREPLAY_SIMULATOR_REGION_H_
