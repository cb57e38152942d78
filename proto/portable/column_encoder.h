// Serializes a run of events as one ChunkColumns message (proto/trace.proto), byte for byte what
// libprotobuf would write for the same message: each non-empty column as one packed field in
// field-number order, then first_string_id and the chunk's new strings.
//
// Dependency-free (standard library only) so that both the protobuf trace writer and the
// portable writer used by the Windows recorder share it. It writes varints through raw pointers
// into per-column buffers sized once, which is several times faster than filling protobuf
// repeated fields and serializing them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "proto/event.h"

namespace vmreplay {

class ColumnEncoder {
 public:
  // Replaces *out with the serialized ChunkColumns. Delta coding restarts at each call, so
  // every chunk decodes on its own. REQUIRES: every event's op is valid.
  void Encode(std::span<const Event> events, uint32_t first_string_id,
              std::span<const std::string> new_strings, std::string* out);

  // ChunkColumns field numbers: op 1, thread 2, timestamp_ns 3, latency_ns 4, then the optional
  // fields from 5 in VMREPLAY_EVENT_FIELDS order; first_string_id 40, strings 41.
  static constexpr int kFirstOptionalColumn = 5;
  static constexpr int kColumnCount = kFirstOptionalColumn + kFieldCount;  // index = field number
  static constexpr uint32_t kFirstStringIdField = 40;
  static constexpr uint32_t kStringsField = 41;

 private:
  std::vector<uint8_t> columns_[kColumnCount];
};

}  // namespace vmreplay
