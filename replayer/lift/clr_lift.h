// `vmreplay lift --clr`: a Linux recording of a .NET process (vmrecord) in, the trace of the
// IHostMemoryManager / IHostMalloc calls the CLR would have made out. Three passes over the
// input, in constant memory apart from the live mappings: find the executable pool, lift once
// to count (the counts go into the output's header, which is written first), lift again to
// write. The header is documented in replayer/lift/README.md.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "proto/status.h"
#include "proto/trace.pb.h"
#include "proto/trace_writer.h"
#include "replayer/lift/lift_stats.h"
#include "replayer/lift/vm_lift.h"

namespace vmreplay::lift {

// The largest reservation of a lifted trace: what a backend must be able to hold.
struct LargestReservation {
  uint64_t base = 0;
  uint64_t size = 0;
  Owner owner = Owner::kRuntime;
  uint64_t lifted_index = 0;  // its event index in the lifted trace
};

struct LiftResult {
  LiftStats stats;
  LargestReservation largest;
  std::vector<OwnedReservation> gc_reservations;
  std::vector<std::pair<uint64_t, uint64_t>> pools;
  proto::Header header;  // the lifted trace's
};

// Header metadata keys the oracle and the README rely on.
inline constexpr char kGcHeapReservationsKey[] = "lift.gc_heap_reservations";
inline constexpr char kGcHandleTableReservationsKey[] = "lift.gc_handle_table_reservations";

// REQUIRES: `in` is a trace recorded on Linux (vmrecord). Writes the lifted trace to `out`.
Status LiftClrTrace(const std::string& in, const std::string& out, const WriterOptions& options,
                    LiftResult* result);

// One line for people replaying the lifted trace: the largest reservation, whose it is, and that
// a backend holding less address space refuses it (and then the calls inside it).
std::string LargestReservationNote(const LargestReservation& largest);

// "0xBASE+0xSIZE,..." as written under kGcHeapReservationsKey; false if malformed.
bool ParseRanges(const std::string& text, std::vector<std::pair<uint64_t, uint64_t>>* ranges);

}  // namespace vmreplay::lift
