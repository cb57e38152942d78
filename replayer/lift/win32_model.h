// The Win32 address space the lifted calls build, kept by the simulator under the rules a
// replay applies (page-granular reservations, layout-faithful placement). The lift takes every
// lifted call's outcome from it, so a `sim` replay of the lifted trace reproduces each one; the
// oracle reads committed bytes from it.
#pragma once

#include <cstdint>

#include "proto/trace.pb.h"
#include "simulator/address_space.h"

namespace vmreplay::lift {

// The address space of a lifted trace: the recorded process's page size as the allocation
// granularity (where the CLR's reservations really land on Linux: see replayer/lift/README.md),
// Linux's user address range, no commit limit, reservations placed where they were recorded.
sim::AddressSpaceConfig LiftedAddressSpaceConfig(const proto::Header& recorded);

class Win32Model {
 public:
  explicit Win32Model(const sim::AddressSpaceConfig& config) : space_(config) {}

  sim::AddressSpace& space() { return space_; }
  const sim::AddressSpace& space() const { return space_; }

  // Committed bytes in [start, end).
  uint64_t CommittedIn(uint64_t start, uint64_t end) const;
  // True when every page of [start, end) is committed.
  bool AllCommitted(uint64_t start, uint64_t end) const {
    return CommittedIn(start, end) == end - start;
  }

 private:
  sim::AddressSpace space_;
};

}  // namespace vmreplay::lift
