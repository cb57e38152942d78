// One recording: the clock, the in-process ring of call records and the thread that drains it
// into trace.pb (proto/portable: no protobuf needed).
//
// Record() is the only thing the hooked calls touch: it copies a fixed-size record into the
// ring, never allocates and never takes a lock. When the ring is full it yields until the
// drain thread makes room, so no call is lost (the footer's dropped_events stays 0);
// full_waits() says how often that happened.
#pragma once

#include <windows.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "proto/event.h"
#include "proto/portable/portable_trace_writer.h"
#include "proto/status.h"
#include "recorder/windows/call_ring.h"

namespace vmreplay::win {

// One call as the hooked path leaves it: the event, plus the DebugAlloc file name copied in
// (the drain thread interns it, so the hooked path needs no string table).
struct CallRecord {
  Event event;
  char file[120];  // NUL-terminated, truncated; empty when the call has no file name
};

struct SessionOptions {
  std::string trace_path = "trace.pb";
  std::vector<std::string> command_line;
  std::string runtime_version;             // metadata only
  size_t ring_capacity = size_t{1} << 16;  // records; power of two
  uint32_t events_per_chunk = 4096;
};

class RecordingSession {
 public:
  // Creates the trace (header from GetSystemInfo / GlobalMemoryStatusEx) and starts the
  // drain thread.
  static Status Start(const SessionOptions& options, std::unique_ptr<RecordingSession>* out);
  ~RecordingSession();

  // Nanoseconds since the session started (QueryPerformanceCounter).
  uint64_t NowNs() const;
  // Any thread, allocation-free. `file` may be null.
  void Record(const Event& event, const char* file = nullptr);
  // Stops the drain thread after it has written every record, and finishes the trace.
  // REQUIRES: no Record() call is running or will start (the CLR has stopped).
  Status Finish();

  uint64_t full_waits() const { return full_waits_.load(std::memory_order_relaxed); }
  uint64_t events_written() const { return writer_->events_written(); }

 private:
  RecordingSession(const SessionOptions& options, std::unique_ptr<portable::PortableTraceWriter> w);
  void Drain();
  bool DrainOnce();

  LARGE_INTEGER frequency_{};
  LARGE_INTEGER start_{};
  std::unique_ptr<portable::PortableTraceWriter> writer_;
  CallRing<CallRecord> ring_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> full_waits_{0};
  Status drain_status_;
  std::thread drainer_;
  bool finished_ = false;
};

}  // namespace vmreplay::win
