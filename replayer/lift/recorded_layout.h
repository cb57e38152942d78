// The recorded process's mappings as the lift understands them: which range is a reservation
// the CLR made, the PAL's executable pool, a code view in it, a file view, a mapping made with
// mmap directly, ... Kept from the recorded calls (Linux semantics: a later mapping replaces
// what it covers, munmap leaves a hole).
#pragma once

#include <cstdint>
#include <map>

namespace vmreplay::lift {

enum class Role : uint8_t {
  kReservation,   // lifted: a VirtualAlloc reservation
  kPool,          // the PAL's executable-memory pool (not lifted)
  kCodeView,      // lifted: a W^X code view in the pool, a reservation of its own
  kFileView,      // lifted as AcquiredVirtualAddressSpace
  kWritableView,  // lifted as AcquiredVirtualAddressSpace (the W^X read-write alias)
  kImageSection,  // lifted as AcquiredVirtualAddressSpace (an image mapped into the pool)
  kDirect,        // mmap with access, not the VirtualAlloc family (not lifted)
  kStack,         // MAP_STACK (not lifted)
  kUnlifted,      // a reservation the lift could not classify: later calls on it are not lifted
  kSystem,        // mapped by glibc or ld.so themselves (a call's origin): not the runtime's
};

// Who made a reservation, as far as its call pattern tells.
enum class Owner : uint8_t { kRuntime, kGcHeap, kGcHandleTable };

struct Mapping {
  uint64_t end = 0;
  Role role = Role::kDirect;
  Owner owner = Owner::kRuntime;
  uint64_t base = 0;    // where the whole reservation or view starts (pieces keep it)
  uint64_t length = 0;  // its length when made
  int fd = -1;          // file views: the descriptor mapped
};

class RecordedLayout {
 public:
  // Maps [start, end) as `mapping`, replacing whatever was there.
  void Insert(uint64_t start, uint64_t end, const Mapping& mapping);
  // Unmaps [start, end): pieces outside it stay.
  void Erase(uint64_t start, uint64_t end);
  // The mapping that holds all of [start, end), or nullptr; *mapping_start receives its start.
  const Mapping* Containing(uint64_t start, uint64_t end, uint64_t* mapping_start) const;
  // True when any page of [start, end) is mapped.
  bool Overlaps(uint64_t start, uint64_t end) const;

 private:
  // Splits the mapping straddling `at` (if any) into two at `at`.
  void SplitAt(uint64_t at);

  std::map<uint64_t, Mapping> mappings_;  // by start; disjoint
};

}  // namespace vmreplay::lift
