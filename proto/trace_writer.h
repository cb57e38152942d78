// Streaming trace writer: constant memory whatever the trace length.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "proto/event.h"
#include "proto/status.h"
#include "proto/trace.pb.h"

namespace vmreplay {

struct WriterOptions {
  uint32_t events_per_chunk = 4096;  // keeps a decoded chunk (~0.9 MB) in L2
  bool compress = true;              // zstd; false writes CODEC_NONE chunks
  int zstd_level = 3;
};

// Writes header, chunks of events and footer to a file. Not thread-safe: one writer per file.
class TraceWriter {
 public:
  // REQUIRES: header.format_major is 0 (filled in) or kFormatMajor.
  static Status Create(const std::string& path, const proto::Header& header,
                       const WriterOptions& options, std::unique_ptr<TraceWriter>* out);
  virtual ~TraceWriter() = default;

  // Returns the trace-global id of `s` (ids start at 1; 0 means "no string").
  virtual uint32_t InternString(std::string_view s) = 0;
  // REQUIRES: event.file is 0 or an id returned by InternString.
  virtual Status Append(const Event& event) = 0;
  // Appends `event_count` events that the caller has already serialized as ChunkColumns
  // (ColumnEncoder::EncodeRows, with no strings and valid operation codes), as one chunk after
  // any appended events. `threads` counts them per thread, for the footer. For producers that
  // hold calls in a form of their own (the Linux collector), so no Event is built per call.
  struct ThreadEvents {
    uint64_t thread;
    uint64_t events;
  };
  virtual Status AppendColumns(std::string_view columns, uint32_t event_count,
                               std::span<const ThreadEvents> threads) = 0;
  // Writes the last chunk and the footer; `extra` supplies dropped_events, thread names and
  // end time; counts and checksums are computed. No Append after Finish.
  virtual Status Finish(const proto::Footer& extra = proto::Footer()) = 0;
  virtual uint64_t events_written() const = 0;
};

}  // namespace vmreplay
