// A dependency-free streaming writer of the vmreplay trace format (proto/trace.proto,
// proto/frame.h), for recorders that cannot link libprotobuf and zstd.
//
// Why it exists: Debian ships no protobuf or zstd built for mingw-w64, so the Windows CLR
// recorder (recorder/windows) cannot use proto/trace_writer. This writer hand-encodes the
// protobuf wire format of Header, Chunk, ChunkColumns and Footer with the same column layout as
// proto/chunk_codec.cc (one packed field per column, so the reader's fast path applies) and
// writes CODEC_NONE chunks. `vmreplay encode in.pb -o out.pb` recompresses such a trace.
// It needs only the C++20 standard library and xxhash.h (header-only, XXH_INLINE_ALL).
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proto/event.h"
#include "proto/portable/column_encoder.h"
#include "proto/status.h"

namespace vmreplay::portable {

// proto::Header without the protobuf types. Enum fields hold the proto enum values.
struct Header {
  uint32_t platform = 0;  // proto::Platform
  uint64_t page_size = 0;
  uint64_t allocation_granularity = 0;
  uint64_t min_user_address = 0;
  uint64_t max_user_address = 0;
  uint64_t physical_memory = 0;
  uint64_t commit_limit = 0;
  uint32_t source = 0;                    // proto::SourceKind
  std::vector<std::string> command_line;  // any bytes (trace.proto 1.1)
  uint64_t start_time_unix_ns = 0;
  // Written in key order, as libprotobuf does. Keys must be UTF-8 (Create refuses others);
  // values are any bytes.
  std::map<std::string, std::string> metadata;
  uint32_t pointer_bits = 0;
};

// What the caller adds to the footer; counts and checksums are computed.
struct FooterExtra {
  uint64_t dropped_events = 0;
  uint64_t end_time_unix_ns = 0;
  std::map<uint64_t, std::string> thread_names;
};

// Writes header, chunks of events and footer to a file in constant memory (one chunk).
// Not thread-safe: one writer per file, used by one thread.
class PortableTraceWriter {
 public:
  // Creates `path` and writes the file magic and the header frame. `events_per_chunk` of 0
  // means the default (4096); it is capped at 2^20 like proto/chunk_codec.h.
  static Status Create(const std::string& path, const Header& header, uint32_t events_per_chunk,
                       std::unique_ptr<PortableTraceWriter>* out);
  ~PortableTraceWriter();
  PortableTraceWriter(const PortableTraceWriter&) = delete;
  PortableTraceWriter& operator=(const PortableTraceWriter&) = delete;

  // Returns the trace-global id of `s` (ids start at 1; 0 means "no string").
  uint32_t InternString(std::string_view s);
  // REQUIRES: event.file is 0 or an id returned by InternString.
  Status Append(const Event& event);
  // Writes the last chunk and the footer and closes the file. No Append after Finish.
  Status Finish(const FooterExtra& extra = FooterExtra());
  uint64_t events_written() const { return written_ + pending_.size(); }

 private:
  PortableTraceWriter(std::string path, std::FILE* file, uint32_t events_per_chunk);
  Status FlushChunk();
  Status WriteFrame(uint8_t kind, const std::string& payload);

  std::string path_;
  std::FILE* file_;
  uint32_t events_per_chunk_;
  Status status_;
  bool finished_ = false;
  uint64_t written_ = 0;
  std::vector<Event> pending_;
  std::vector<std::string> new_strings_;
  std::unordered_map<std::string, uint32_t> string_ids_;
  std::map<uint64_t, uint64_t> thread_counts_;
  std::vector<uint64_t> chunk_checksums_;
  ColumnEncoder encoder_;
  std::string scratch_;
  std::string frame_;
};

}  // namespace vmreplay::portable
