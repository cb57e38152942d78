// vmrecord's collector: runs a command under the preload library, merges the threads' rings
// while it runs, and writes one trace per recorded process image.
//
// Processes: every process image that loads the preload library (the command, its fork
// children, and whatever they exec with the environment intact) writes into the one shared
// segment, each thread into a ring of its own; each ring names its writer's pid, thread and
// instance id (a new one per exec'd image and per fork child). The collector merges the rings
// in key order (record_merger.h) and demultiplexes by instance:
//   - the command's own image              -> `output_path`
//   - the first image of any other pid P   -> `<stem>.P.pb` (stem = output_path minus ".pb")
//   - a later image of P (P exec'd again)  -> `<stem>.P.N.pb`, N = 1, 2, ...
// The collector is a child subreaper, so it reaps every descendant and the recording ends when
// the last one has exited and the rings are drained.
//
// Nothing is lost: a record is in its ring as soon as its call returned; after a writer dies
// (even by SIGKILL) its published records are still read. A writer that dies while producing a
// record leaves a pending mark; the collector clears it once the writer is known to be dead
// (reaped, or its thread gone) and counts the record in the footer's dropped_events, unless the
// writer was inside a free or munmap that never returned (nothing was lost then).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/status.h"
#include "recorder/linux/syscall_tracer.h"

namespace vmreplay::recorder {

struct CollectorOptions {
  std::string output_path;
  std::vector<std::string> command;
  std::string preload_path;  // libvmrecord_preload.so
  // Each thread's ring (rounded down to a power of two). Writers wait while theirs is full, so
  // it must absorb the collector being descheduled for a while (a few ms on a busy machine).
  uint64_t ring_bytes = uint64_t{2} << 20;
  // Rings a thread can own; threads beyond them share `shared_rings` rings under a lock.
  // Only the pages of rings in use are ever touched.
  uint32_t rings = 128;
  uint32_t shared_rings = 4;
  // Fence each record in the writer (an atomic exchange) instead of the collector fencing all
  // writers with membarrier(2) per round; the fallback where membarrier is missing.
  bool fence_per_record = false;
  // Chunk compression while recording. The collector encodes on the fly and must keep pace
  // with the recorded program (writers wait when the ring is full), so the default is zstd's
  // fastest standard level; negative levels (zstd's "fast" modes) trade size for speed, and
  // compress = false writes CODEC_NONE chunks. See bench/recorder/overhead.sh.
  bool compress = true;
  int zstd_level = 1;
  // Also record the mmap-family calls glibc and ld.so make themselves (syscall_tracer.h).
  bool trace_syscalls = true;
  // One unordered clock read per hooked call and no latency (SessionTiming, wire_protocol.h).
  bool coarse_timing = false;
  // Timestamps rounded down to this many ns, latencies to the nearest (1: exact). With
  // coarse_timing, vmrecord --timing=compact.
  uint64_t time_precision_ns = 1;
};

struct RecordingResult {
  int exit_code = 0;    // the command's exit code, or 128 + the signal that killed it
  int term_signal = 0;  // the signal that killed the command, 0 if it exited
  uint64_t events = 0;
  uint64_t dropped_events = 0;
  // Lines of an image's address-space snapshot that arrived after another of its threads had
  // made the first recorded call (the header was written): left out of that header.
  uint64_t late_mappings = 0;
  // Records that came out of order (should be 0; see RecordMerger::late_records), and the first
  // ring whose contents did not parse ("" if none) with how many words were unreadable.
  uint64_t late_records = 0;
  std::string corruption;
  uint64_t unreadable_words = 0;
  bool membarrier = false;  // whether the session fenced writers with membarrier(2)
  // Set when the rings were made smaller than asked to fit /dev/shm's free space.
  std::string ring_note;
  std::vector<std::string> trace_paths;  // the command's trace first
  SyscallTracerStats tracer;
  // Seconds from the start of the recording until the command exited (was reaped), and until
  // every trace was written and closed (for overhead measurements: see overhead.sh).
  double command_seconds = 0;
  double written_seconds = 0;
};

// Runs the command to completion (including all its descendants) and writes the traces.
Status RecordCommand(const CollectorOptions& options, RecordingResult* result);

}  // namespace vmreplay::recorder
