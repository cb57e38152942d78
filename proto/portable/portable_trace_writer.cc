#include "proto/portable/portable_trace_writer.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cerrno>
#include <cstring>

#include "proto/frame.h"
#include "proto/portable/byte_escape.h"
#include "proto/portable/utf8.h"

namespace vmreplay::portable {
namespace {

// Protobuf wire types.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kLengthDelimited = 2;

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutTag(uint32_t field, uint32_t wire, std::string* out) { PutVarint(field << 3 | wire, out); }

// A proto3 scalar: absent when zero.
void PutVarintField(uint32_t field, uint64_t v, std::string* out) {
  if (v == 0) return;
  PutTag(field, kVarint, out);
  PutVarint(v, out);
}

// A length-delimited field, always present (repeated strings, map entries, sub-messages).
void PutBytesField(uint32_t field, std::string_view bytes, std::string* out) {
  PutTag(field, kLengthDelimited, out);
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

void PutLe(uint64_t v, int bytes, char* p) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

std::string EncodeHeader(const Header& h) {
  std::string out;
  PutVarintField(1, kFormatMajor, &out);
  PutVarintField(2, kFormatMinor, &out);
  PutVarintField(3, h.platform, &out);
  PutVarintField(4, h.page_size, &out);
  PutVarintField(5, h.allocation_granularity, &out);
  PutVarintField(6, h.min_user_address, &out);
  PutVarintField(7, h.max_user_address, &out);
  PutVarintField(8, h.physical_memory, &out);
  PutVarintField(9, h.commit_limit, &out);
  PutVarintField(10, h.source, &out);
  for (const std::string& arg : h.command_line) PutBytesField(11, arg, &out);
  PutVarintField(12, h.start_time_unix_ns, &out);
  std::string entry;
  for (const auto& [key, value] : h.metadata) {  // map entry: key = 1, value = 2
    entry.clear();
    PutBytesField(1, key, &entry);
    PutBytesField(2, value, &entry);
    PutBytesField(13, entry, &out);
  }
  PutVarintField(14, h.pointer_bits, &out);
  return out;
}

}  // namespace

PortableTraceWriter::PortableTraceWriter(std::string path, std::FILE* file,
                                         uint32_t events_per_chunk)
    : path_(std::move(path)), file_(file), events_per_chunk_(events_per_chunk) {
  if (events_per_chunk_ == 0) events_per_chunk_ = 4096;
  if (events_per_chunk_ > (1u << 20)) events_per_chunk_ = 1u << 20;
  pending_.reserve(events_per_chunk_);
}

PortableTraceWriter::~PortableTraceWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

Status PortableTraceWriter::Create(const std::string& path, const Header& header,
                                   uint32_t events_per_chunk,
                                   std::unique_ptr<PortableTraceWriter>* out) {
  for (const auto& [key, value] : header.metadata) {
    // Map keys are protobuf strings: a reader would refuse the whole header.
    if (!IsValidUtf8(key)) {
      return Status::Error(path + ": metadata key \"" + EscapeBytes(key) +
                           "\" is not UTF-8 (metadata keys are protobuf map keys)");
    }
  }
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return Status::Error(path + ": cannot create: " + std::strerror(errno));
  std::unique_ptr<PortableTraceWriter> writer(
      new PortableTraceWriter(path, file, events_per_chunk));
  if (std::fwrite(kFileMagic, 1, sizeof kFileMagic, file) != sizeof kFileMagic) {
    return Status::Error(path + ": write failed: " + std::strerror(errno));
  }
  VMREPLAY_RETURN_IF_ERROR(writer->WriteFrame(1, EncodeHeader(header)));
  *out = std::move(writer);
  return Status::Ok();
}

uint32_t PortableTraceWriter::InternString(std::string_view s) {
  auto [it, inserted] =
      string_ids_.emplace(std::string(s), static_cast<uint32_t>(string_ids_.size()) + 1);
  if (inserted) new_strings_.emplace_back(s);
  return it->second;
}

Status PortableTraceWriter::Append(const Event& event) {
  if (!status_.ok()) return status_;
  if (finished_) return status_ = Status::Error(path_ + ": Append after Finish");
  if (!IsValidOp(static_cast<uint32_t>(event.op))) {
    return Status::Error(path_ + ": event " + std::to_string(events_written()) +
                         ": invalid operation code " +
                         std::to_string(static_cast<uint32_t>(event.op)));
  }
  pending_.push_back(event);
  ++thread_counts_[event.thread];
  if (pending_.size() >= events_per_chunk_) return FlushChunk();
  return Status::Ok();
}

Status PortableTraceWriter::FlushChunk() {
  if (pending_.empty() || !status_.ok()) return status_;
  const auto first_string_id = static_cast<uint32_t>(string_ids_.size() - new_strings_.size()) + 1;
  std::string& raw = scratch_;
  encoder_.Encode(pending_, first_string_id, new_strings_, &raw);
  // Chunk: first_event_index 1, event_count 2, codec 3 (CODEC_NONE = 0: absent), raw_size 4,
  // columns 5.
  std::string chunk;
  PutVarintField(1, written_, &chunk);
  PutVarintField(2, pending_.size(), &chunk);
  PutVarintField(4, raw.size(), &chunk);
  PutBytesField(5, raw, &chunk);
  chunk_checksums_.push_back(XXH3_64bits(chunk.data(), chunk.size()));
  written_ += pending_.size();
  pending_.clear();
  new_strings_.clear();
  return WriteFrame(2, chunk);
}

Status PortableTraceWriter::Finish(const FooterExtra& extra) {
  if (finished_) return status_;
  finished_ = true;
  VMREPLAY_RETURN_IF_ERROR(FlushChunk());
  std::string sums(chunk_checksums_.size() * 8, '\0');
  for (size_t i = 0; i < chunk_checksums_.size(); ++i) PutLe(chunk_checksums_[i], 8, &sums[i * 8]);
  std::string footer;
  PutVarintField(1, written_, &footer);
  PutVarintField(2, chunk_checksums_.size(), &footer);
  PutVarintField(3, XXH3_64bits(sums.data(), sums.size()), &footer);
  PutVarintField(4, extra.dropped_events, &footer);
  std::string info;
  for (const auto& [tid, count] : thread_counts_) {  // ThreadInfo: id 1, event_count 2, name 3
    info.clear();
    PutVarintField(1, tid, &info);
    PutVarintField(2, count, &info);
    if (auto it = extra.thread_names.find(tid);
        it != extra.thread_names.end() && !it->second.empty()) {
      PutBytesField(3, it->second, &info);
    }
    PutBytesField(5, info, &footer);
  }
  PutVarintField(6, extra.end_time_unix_ns, &footer);
  VMREPLAY_RETURN_IF_ERROR(WriteFrame(3, footer));
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) status_ = Status::Error(path_ + ": close failed: " + std::strerror(errno));
  return status_;
}

// [sync u32][kind u8][reserved u8 x3][length u32][xxh3-64 u64][payload], little-endian.
Status PortableTraceWriter::WriteFrame(uint8_t kind, const std::string& payload) {
  if (!status_.ok()) return status_;
  if (payload.size() > kMaxFramePayload) {
    return status_ = Status::Error(path_ + ": frame of " + std::to_string(payload.size()) +
                                   " bytes exceeds the 64 MiB limit");
  }
  frame_.assign(kFrameHeaderSize, '\0');
  PutLe(kFrameSync, 4, &frame_[0]);
  frame_[4] = static_cast<char>(kind);
  PutLe(payload.size(), 4, &frame_[8]);
  PutLe(XXH3_64bits(payload.data(), payload.size()), 8, &frame_[12]);
  frame_.append(payload);
  if (std::fwrite(frame_.data(), 1, frame_.size(), file_) != frame_.size()) {
    status_ = Status::Error(path_ + ": write failed: " + std::strerror(errno));
  }
  return status_;
}

}  // namespace vmreplay::portable
