// The collector's per-record work: turns the records of every recorded process image into
// that image's trace file (see collector.h for the file naming), off the hooked path.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proto/event.h"
#include "proto/portable/column_encoder.h"
#include "proto/status.h"
#include "proto/trace_writer.h"
#include "recorder/linux/call_record.h"
#include "recorder/linux/collector.h"
#include "recorder/linux/wire_protocol.h"

namespace vmreplay::recorder {

class TraceDemultiplexer {
 public:
  // `options` must outlive the demultiplexer. `root_pid` is the command's pid: its first image
  // writes to options.output_path. Records are held, not encoded, until SetClock.
  TraceDemultiplexer(const CollectorOptions& options, uint32_t root_pid, uint64_t start_wall_ns);
  // How record clocks become trace nanoseconds, once calibrated (the collector measures the
  // TSC while the command already runs). The records held meanwhile are encoded by
  // EncodeHeld, a slice at a time, so that the collector can go on draining the rings.
  void SetClock(const ClockConversion& clock);
  // What the header's metadata["syscall_tracer"] says: "on" (glibc's and ld.so's own
  // mmap-family calls are in the trace, with their origin) or "off: <why>". With the tracer
  // attached, `announced(instance)` tells whether that image's calls were traced (it announced
  // itself before its first call, when its header is written).
  void SetSyscallTracer(std::string state, std::function<bool(uint32_t)> announced) {
    syscall_tracer_ = std::move(state);
    announced_ = std::move(announced);
  }
  // Encodes up to `max_records` of the records held for want of a clock (and the records that
  // arrived after them). Returns how many are still held. REQUIRES: SetClock was called.
  size_t EncodeHeld(size_t max_records);
  ~TraceDemultiplexer();

  // One record from the ring, in ring order.
  void Handle(const CallRecord& record);
  // A skipped slot: charged to the latest image of `pid`, or to the command's trace.
  void CountDropped(uint32_t pid);
  // How `pid` ended (its waitpid status), for its last image's footer. Call before
  // FinishProcess(pid).
  void NoteExit(uint32_t pid, int wait_status);
  // Finishes the traces of every image of `pid` and frees what they held (file, buffers,
  // compression context), so that a recording of many processes keeps neither files nor
  // memory open for the dead ones. REQUIRES: no record of `pid` is left to Handle; SetClock
  // was called.
  void FinishProcess(uint32_t pid);
  // The pids that still have a trace to finish.
  std::vector<uint32_t> UnfinishedPids() const;
  // Finishes every trace (the command's exists even if it recorded nothing) and fills the
  // event counts and trace paths of *result. Returns the first error met while writing.
  // REQUIRES: SetClock was called.
  Status Finish(RecordingResult* result);

 private:
  struct ProcessTrace;

  // Call records are written in chunks of this many, encoded straight from the records as they
  // arrive.
  static constexpr size_t kRecordsPerChunk = 4096;

  void Fail(const Status& s);
  // Adds a call record to its trace's chunk in progress; writes the chunk once full.
  void Add(ProcessTrace& trace, const CallRecord& record);
  // Encodes up to `max_records` of the records the trace holds in `early`; returns how many.
  size_t EncodeHeld(ProcessTrace& trace, size_t max_records);
  // Writes the chunk in progress, if it holds any record.
  void Flush(ProcessTrace& trace);
  // Names the record's thread from /proc, at its first record (its writer record), while it
  // (probably) still exists; best effort.
  void NoteThread(const CallRecord& record);
  void FinishTrace(ProcessTrace& trace);
  bool OpenWriter(ProcessTrace& trace);
  ProcessTrace& TraceFor(const CallRecord& record);

  const CollectorOptions& options_;
  const uint32_t root_pid_;
  std::optional<CallRecordAccess> access_;  // set by SetClock
  size_t held_ = 0;                         // records in the traces' `early` lists
  const uint64_t start_wall_ns_;
  std::string stem_;
  std::map<uint32_t, std::unique_ptr<ProcessTrace>> instances_;
  std::map<uint32_t, int> images_per_pid_;
  std::map<uint32_t, uint32_t> latest_by_pid_;
  std::map<uint32_t, int> exit_status_;           // waitpid status, by pid
  std::map<uint64_t, std::string> thread_names_;  // by (instance << 32 | tid)
  std::vector<std::string> finished_paths_;       // the command's first
  uint32_t last_instance_ = 0;
  ProcessTrace* last_trace_ = nullptr;  // instances_ owns it; entries are never removed
  std::string columns_;  // a chunk's serialized columns, before the writer compresses them
  uint64_t events_ = 0;
  uint64_t dropped_ = 0;
  uint64_t late_mappings_ = 0;  // snapshot lines that came after their trace's header
  Status status_;
  std::string syscall_tracer_ = "off";
  std::function<bool(uint32_t)> announced_;
};

}  // namespace vmreplay::recorder
