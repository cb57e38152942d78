// What `vmreplay info` shows: one pass over a trace, in constant memory (plus one entry per
// thread).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "proto/event.h"
#include "proto/status.h"
#include "proto/trace.pb.h"

namespace vmreplay {

struct TraceSummary {
  proto::Header header;
  uint64_t file_size = 0;
  uint64_t events = 0;
  std::array<uint64_t, kOpCount> per_op{};
  // mmap-family calls by who made them (CallOrigin): [0] hooked, then glibc's and ld.so's own.
  std::array<uint64_t, kCallOriginCount> per_origin{};
  std::map<uint64_t, uint64_t> per_thread;       // thread id -> events
  std::map<uint64_t, std::string> thread_names;  // from the footer, where the recorder knew them
  uint64_t first_timestamp_ns = 0;
  uint64_t last_end_ns = 0;   // latest timestamp + latency
  uint64_t failed_calls = 0;  // calls whose recorded outcome is an error
  bool has_footer = false;
  uint64_t dropped_events = 0;
  proto::ProcessEnd end;  // how the recorded process image ended (HOW_UNKNOWN if not said)
};

Status Summarize(const std::string& path, TraceSummary* out);

// True when the recorded outcome of the call is a failure (an error code, a failing HRESULT,
// or a NULL result where the call returns memory).
inline bool RecordedFailure(const Event& e) {  // inline: replay asks it of every call
  if (e.error != 0) return true;
  if (IsWin32VirtualOp(e.op) || IsHostMallocOp(e.op) || e.op == Op::kMemoryNotification) {
    return (e.hresult & 0x80000000u) != 0;
  }
  switch (e.op) {
    case Op::kMalloc:
    case Op::kCalloc:
    case Op::kValloc:
    case Op::kPvalloc:
    case Op::kAlignedAlloc:
    case Op::kMemalign:
      return e.result == 0 && e.size != 0;
    default:
      return false;
  }
}

}  // namespace vmreplay
