// Streaming reader of the binary trace format. Memory is bounded by one chunk (and the trace's
// strings), whatever the trace length and whatever the damage. In strict mode the first damage
// ends the read with a Status naming the file, chunk, byte offset and the number of intact
// events; with skip_damage the reader records the damage, resynchronises on the next frame and
// goes on, so every intact chunk is delivered. Resynchronisation is linear in the file size
// (proto/frame_scanner.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "proto/chunk_codec.h"
#include "proto/event_source.h"
#include "proto/frame.h"
#include "proto/frame_scanner.h"
#include "proto/string_table.h"

namespace vmreplay {

struct ReaderOptions {
  bool skip_damage = false;
};

struct Damage {
  std::string frame;           // "chunk N" (chunk frames counted from 0) or "footer"
  uint64_t byte_offset = 0;    // where in the file it starts
  uint64_t events_before = 0;  // intact events delivered before it
  std::string what;
};

class BinaryTraceReader final : public EventSource {
 public:
  static Status Open(const std::string& path, const ReaderOptions& options,
                     std::unique_ptr<BinaryTraceReader>* out);
  ~BinaryTraceReader() override;

  const proto::Header& header() const override { return header_; }
  bool Next(Event* event) override;
  const Status& status() const override { return status_; }
  std::string_view String(uint32_t id) const override;
  const proto::Footer* footer() const override { return has_footer_ ? &footer_ : nullptr; }
  uint64_t events_read() const override { return events_read_; }

  // The events of the next chunk, for callers that work a chunk at a time (faster than Next).
  // Returns nullptr at the end or on error. Valid until the next call. Do not mix with Next.
  const std::vector<Event>* NextChunk();
  // The same, handing the events over: swaps them into *events, whose old contents the reader
  // reuses as storage for the next chunk (no copy). False at the end or on error.
  bool NextChunkInto(std::vector<Event>* events);

  // The first kMaxDamageRecords damaged places; damage_count() counts them all.
  static constexpr size_t kMaxDamageRecords = 100;
  const std::vector<Damage>& damage() const { return damage_; }
  uint64_t damage_count() const { return damage_count_; }
  // What finding frames cost (bytes read and hashed, candidates left unverified).
  const FrameScanner::Stats& scan_stats() const { return scanner_.stats(); }
  uint64_t file_size() const { return file_size_; }
  uint64_t chunks_read() const { return chunks_read_; }
  // Bytes of the file consumed so far (for progress reporting).
  uint64_t bytes_read() const { return offset_; }
  // True once a footer was read and it matched everything read before it.
  bool complete() const { return complete_; }

  // Frames up to a quarter of this are read through a window of this many bytes read ahead.
  static constexpr size_t kReadWindow = FrameScanner::kWindow;

 private:
  BinaryTraceReader(std::string path, std::FILE* file, uint64_t file_size,
                    const ReaderOptions& options);
  Status ReadHeader();
  bool LoadNextChunk();
  // Reports damage at `offset`: fails the read in strict mode; records it in skip mode.
  // Returns true if reading may go on.
  bool Report(uint64_t offset, const std::string& what, FrameKind kind = FrameKind::kChunk);
  // Moves offset_ to the next frame that checks out; false (offset_ at the end) if none.
  bool Resync(uint64_t from);
  std::string Where(uint64_t offset, FrameKind kind) const;

  std::string path_;
  std::FILE* file_;
  uint64_t file_size_;
  ReaderOptions options_;
  Status status_;
  proto::Header header_;
  proto::Footer footer_;
  bool has_footer_ = false;
  bool complete_ = false;
  bool done_ = false;
  uint64_t offset_ = 0;  // next frame starts here
  uint64_t chunks_read_ = 0;
  uint64_t chunk_ordinal_ = 0;  // chunk frames seen, intact or not
  uint64_t events_read_ = 0;    // delivered by Next / NextChunk
  uint64_t next_event_index_ = 0;
  ChunkSequenceChecksum chunks_checksum_;
  StringTable strings_;
  std::vector<Damage> damage_;
  uint64_t damage_count_ = 0;
  FrameScanner scanner_;
  uint64_t resynced_at_ = UINT64_MAX;  // the frame Resync verified, not to be hashed twice
  ChunkDecoder decoder_;
  DecodedChunk chunk_;
  size_t cursor_ = 0;
  size_t chunk_size_ = 0;  // events of the current chunk (the array is reused across chunks)
  std::string payload_;
};

}  // namespace vmreplay
