// Encodes a run of events into one proto::Chunk (packed columns, zstd) and back.
// Chunks are independent: delta coding restarts at every chunk, so any intact chunk decodes
// on its own even when its neighbours are damaged.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/event.h"
#include "proto/portable/column_encoder.h"
#include "proto/status.h"
#include "proto/trace.pb.h"

namespace vmreplay {

inline constexpr uint32_t kMaxEventsPerChunk = 1u << 20;
inline constexpr uint32_t kDefaultEventsPerChunk = 4096;

class ChunkEncoder {
 public:
  ChunkEncoder();
  ~ChunkEncoder();
  // Serializes a proto::Chunk holding `events` into *out.
  void Encode(std::span<const Event> events, uint64_t first_event_index, uint32_t first_string_id,
              std::span<const std::string> new_strings, bool compress, int zstd_level,
              std::string* out);
  // The same for `event_count` events the caller has already serialized as ChunkColumns
  // (ColumnEncoder::EncodeRows).
  void EncodeColumns(std::string_view columns, uint64_t first_event_index, uint32_t event_count,
                     bool compress, int zstd_level, std::string* out);

 private:
  struct ZstdContext;
  std::unique_ptr<ZstdContext> zstd_;
  ColumnEncoder columns_;
  proto::Chunk chunk_;
  std::string raw_;
};

struct DecodedChunk {
  uint64_t first_event_index = 0;
  uint32_t first_string_id = 0;
  std::vector<std::string> strings;
  std::vector<Event> events;
  std::vector<uint8_t> scratch_ops;  // decoder's working space, reused across chunks
};

class ChunkDecoder {
 public:
  ChunkDecoder();
  ~ChunkDecoder();
  // Decodes a serialized proto::Chunk. `known_strings` is the number of string ids defined
  // before this chunk (ids 1..known_strings); references beyond what this chunk adds are errors.
  // `after_damage`: earlier chunks were lost, so string ids may have gaps and references to
  // strings defined in lost chunks are let through (they resolve to "").
  // On error the message says what is wrong, without file context.
  Status Decode(const void* data, size_t size, uint32_t known_strings, bool after_damage,
                DecodedChunk* out);

 private:
  struct ZstdContext;
  std::unique_ptr<ZstdContext> zstd_;
  proto::Chunk chunk_;
  proto::ChunkColumns columns_;
  std::string raw_;
};

}  // namespace vmreplay
