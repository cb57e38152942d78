// The runtime's own figure against the lifted trace's: GC.GetGCMemoryInfo().TotalCommittedBytes,
// printed by a workload right after a blocking full collection (traces/clr/workloads/common/
// Oracle.cs), against the bytes committed in the GC heap's reservations in the lifted trace at the
// same wall-clock moment (header start_time_unix_ns + event timestamp_ns).
//
// What the runtime counts (gc/gc.cpp get_total_committed_size -> committed_size): per heap, the
// committed part of every region or segment of every generation, from its start (segments: the
// segment header included), plus (regions) the committed bytes of the heap's free regions. It
// leaves out the GC's bookkeeping (card table, brick table, mark array: their own reservation,
// which the lift does not count as heap either), the handle table, and regions on the global
// free and decommit lists, which stay committed until decommit_step releases them a step at a
// time after the collection. So the trace's figure can exceed the runtime's by those regions, and
// never fall short of it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/status.h"

namespace vmreplay::lift {

// A line "vmreplay-oracle label=L gc_index=N total_committed=B ... before_unix_ns=T0
// after_unix_ns=T1" of a workload's output.
struct OracleCheckpoint {
  std::string label;
  uint64_t gc_index = 0;
  uint64_t total_committed = 0;
  uint64_t before_unix_ns = 0;  // before the last collection
  uint64_t after_unix_ns = 0;   // after it: the moment compared
};

// The trace's GC-heap commit over the checkpoint's window [before_unix_ns, after_unix_ns]. The
// runtime took its figure at the end of the collection inside that window, so the trace must
// pass through exactly that figure at some call in the window (tolerance 0 bytes). Its value at
// the window's end can differ: other threads may commit or decommit after the collection.
struct OracleComparison {
  OracleCheckpoint checkpoint;
  uint64_t trace_committed = 0;  // in the GC heap reservations at after_unix_ns
  uint64_t window_min = 0;
  uint64_t window_max = 0;
  bool reached = false;  // the trace held exactly total_committed at some point of the window
  bool agrees() const { return reached; }
  double ratio() const {
    return checkpoint.total_committed == 0 ? 0.0
                                           : static_cast<double>(trace_committed) /
                                                 static_cast<double>(checkpoint.total_committed);
  }
};

// The checkpoints of a workload's output (other lines are skipped). Error when a checkpoint line
// is malformed (file and line named) or there is none.
Status ParseOracleOutput(const std::string& path, std::vector<OracleCheckpoint>* checkpoints);

// REQUIRES: `lifted_trace` was written by LiftClrTrace. One comparison per checkpoint, in order.
Status CompareWithLiftedTrace(const std::string& lifted_trace,
                              const std::vector<OracleCheckpoint>& checkpoints,
                              std::vector<OracleComparison>* comparisons);

// One line per checkpoint: label, runtime bytes, trace bytes at the end of the window, their
// ratio, the window's range and whether the runtime's figure is in it.
std::string FormatComparisons(const std::vector<OracleComparison>& comparisons);

}  // namespace vmreplay::lift
