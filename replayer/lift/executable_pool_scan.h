// The lift's first pass: which reservations are the PAL's executable-memory pool. The PAL
// reserves it once near libcoreclr (ExecutableMemoryAllocator::TryReserveInitialMemory,
// pal/src/map/virtual.cpp) and then hands out parts of it without a system call: W^X code views
// (doublemapping.cpp ReserveDoubleMappedMemory) and loaded images (MAPMapPEFile) are mapped into
// it with MAP_FIXED. The pool is the reservation that receives such file mappings; only a scan of
// the whole trace can tell, before the lift has to decide whether to lift the reservation.
#pragma once

#include <cstdint>
#include <map>
#include <set>

#include "proto/event.h"

namespace vmreplay::lift {

class ExecutablePoolScan {
 public:
  void Observe(const Event& e, uint64_t index);
  // Event indices of the mmap calls that reserved a pool.
  const std::set<uint64_t>& pools() const { return pools_; }

 private:
  struct Candidate {
    uint64_t end;
    uint64_t index;
  };
  std::map<uint64_t, Candidate> candidates_;  // anonymous PROT_NONE mappings, by start
  std::set<uint64_t> pools_;
};

}  // namespace vmreplay::lift
