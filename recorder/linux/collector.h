// vmrecord's collector: runs a command under the preload library, drains the shared ring while
// it runs, and writes one trace per recorded process image.
//
// Processes: every process image that loads the preload library (the command, its fork
// children, and whatever they exec with the environment intact) writes into the one shared
// ring; each record carries its writer's pid and an instance id (a new one per exec'd image
// and per fork child). The collector demultiplexes by instance:
//   - the command's own image              -> `output_path`
//   - the first image of any other pid P   -> `<stem>.P.pb` (stem = output_path minus ".pb")
//   - a later image of P (P exec'd again)  -> `<stem>.P.N.pb`, N = 1, 2, ...
// The collector is a child subreaper, so it reaps every descendant and the recording ends when
// the last one has exited and the ring is drained.
//
// Nothing is lost: a record is in the ring as soon as its call returned; after a writer dies
// (even by SIGKILL) its committed records are still read. A slot a writer reserved but never
// committed (killed inside the hook) stalls the reader; it is skipped once its writer is known
// to be dead (or, if the writer is unknown, after `stall_grace_ms`, once some recorded process
// has died, or when no process is left) and counted in the footer's dropped_events, unless its
// writer had reserved it before a free or munmap that never returned (nothing was lost then).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/status.h"

namespace vmreplay::recorder {

struct CollectorOptions {
  std::string output_path;
  std::vector<std::string> command;
  std::string preload_path;  // libvmrecord_preload.so
  uint64_t ring_bytes = uint64_t{16} << 20;
  int stall_grace_ms = 1000;
  // Chunk compression while recording. The collector encodes on the fly and must keep pace
  // with the recorded program (writers wait when the ring is full), so the default is zstd's
  // fastest standard level; negative levels (zstd's "fast" modes) trade size for speed, and
  // compress = false writes CODEC_NONE chunks. See bench/recorder/overhead.sh.
  bool compress = true;
  int zstd_level = 1;
};

struct RecordingResult {
  int exit_code = 0;  // the command's exit code, or 128 + the signal that killed it
  uint64_t events = 0;
  uint64_t dropped_events = 0;
  std::vector<std::string> trace_paths;  // the command's trace first
  // Seconds from the start of the recording until the command exited (was reaped), and until
  // every trace was written and closed (for overhead measurements: see overhead.sh).
  double command_seconds = 0;
  double written_seconds = 0;
};

// Runs the command to completion (including all its descendants) and writes the traces.
Status RecordCommand(const CollectorOptions& options, RecordingResult* result);

}  // namespace vmreplay::recorder
