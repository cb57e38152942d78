#include "proto/binary_trace_reader.h"

#include <google/protobuf/stubs/logging.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proto/frame.h"

namespace vmreplay {

BinaryTraceReader::BinaryTraceReader(std::string path, std::FILE* file, uint64_t file_size,
                                     const ReaderOptions& options)
    : path_(std::move(path)),
      file_(file),
      file_size_(file_size),
      options_(options),
      scanner_(fileno(file), file_size) {}

BinaryTraceReader::~BinaryTraceReader() { std::fclose(file_); }

Status BinaryTraceReader::Open(const std::string& path, const ReaderOptions& options,
                               std::unique_ptr<BinaryTraceReader>* out) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Status::Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fileno(file), &st) != 0 || !S_ISREG(st.st_mode)) {
    std::fclose(file);
    return Status::Error(path + ": not a regular file");
  }
  std::unique_ptr<BinaryTraceReader> reader(
      new BinaryTraceReader(path, file, static_cast<uint64_t>(st.st_size), options));
  VMREPLAY_RETURN_IF_ERROR(reader->ReadHeader());
  *out = std::move(reader);
  return Status::Ok();
}

std::string BinaryTraceReader::Where(uint64_t offset, FrameKind kind) const {
  const std::string frame =
      kind == FrameKind::kChunk ? "chunk " + std::to_string(chunk_ordinal_) : "footer";
  return path_ + ": " + frame + " (byte offset " + std::to_string(offset) + ", event index " +
         std::to_string(next_event_index_) + ")";
}

Status BinaryTraceReader::ReadHeader() {
  if (file_size_ == 0) return Status::Error(path_ + ": empty file (0 bytes), not a vmreplay trace");
  char magic[sizeof kFileMagic];
  if (file_size_ < sizeof magic || !scanner_.Read(0, magic, sizeof magic) ||
      std::memcmp(magic, kFileMagic, sizeof magic) != 0) {
    return Status::Error(path_ + ": not a vmreplay trace (bad magic at byte offset 0)");
  }
  const uint64_t at = sizeof magic;
  if (file_size_ < at + kFrameHeaderSize) {
    return Status::Error(path_ + ": header (byte offset 8): truncated; the file ends at byte " +
                         std::to_string(file_size_));
  }
  FrameHeader frame;
  std::string why;
  if (!scanner_.Header(at, &frame, &why) || frame.kind != FrameKind::kHeader) {
    return Status::Error(
        path_ + ": header (byte offset 8): " + (why.empty() ? "first frame is not a header" : why));
  }
  if (frame.length > file_size_ - at - kFrameHeaderSize) {
    return Status::Error(path_ + ": header (byte offset 8): truncated; it needs " +
                         std::to_string(frame.length) + " bytes, the file ends at byte " +
                         std::to_string(file_size_));
  }
  payload_.resize(frame.length);
  if (scanner_.Verify(at, frame) != FrameScanner::Verdict::kMatch ||
      !scanner_.Read(at + kFrameHeaderSize, payload_.data(), frame.length)) {
    return Status::Error(path_ + ": header (byte offset 8): checksum mismatch");
  }
  bool parsed;
  {
    // A metadata key that is not UTF-8 makes libprotobuf log a line of its own to stderr; the
    // error below is the one line the user gets.
    google::protobuf::LogSilencer quiet;
    parsed = header_.ParseFromString(payload_);
  }
  if (!parsed) {
    return Status::Error(path_ + ": header (byte offset 8): header message does not parse");
  }
  if (header_.format_major() > kFormatMajor || header_.format_major() == 0) {
    return Status::Error(path_ + ": format version " + std::to_string(header_.format_major()) +
                         "." + std::to_string(header_.format_minor()) +
                         " is not supported by this reader (it reads " +
                         std::to_string(kFormatMajor) + ".x)");
  }
  offset_ = at + kFrameHeaderSize + frame.length;
  return Status::Ok();
}

bool BinaryTraceReader::Report(uint64_t offset, const std::string& what, FrameKind kind) {
  if (!options_.skip_damage) {
    status_ = Status::Error(Where(offset, kind) + ": " + what + "; " +
                            std::to_string(events_read_) + " events before it are intact");
    done_ = true;
    return false;
  }
  // Listed up to a cap: a file can hold a damaged place every few bytes.
  if (++damage_count_ > kMaxDamageRecords) return true;
  damage_.push_back(Damage{kind == FrameKind::kChunk
                               ? std::string("chunk ") + std::to_string(chunk_ordinal_)
                               : std::string("footer"),
                           offset, events_read_, what});
  return true;
}

bool BinaryTraceReader::Resync(uint64_t from) {
  FrameHeader frame;
  if (scanner_.FindNext(from, &offset_, &frame)) {
    resynced_at_ = offset_;
    return true;
  }
  offset_ = file_size_;
  return false;
}

bool BinaryTraceReader::LoadNextChunk() {
  while (!done_) {
    if (offset_ == file_size_) {
      done_ = true;
      if (!has_footer_) {
        Report(offset_, "truncated: the file ends without a footer", FrameKind::kFooter);
      }
      return false;
    }
    const uint64_t at = offset_;
    FrameHeader frame;
    std::string why;
    if (file_size_ - at < kFrameHeaderSize) {
      if (!Report(at,
                  "truncated frame header (" + std::to_string(file_size_ - at) + " bytes left)")) {
        return false;
      }
      done_ = true;
      return false;
    }
    if (!scanner_.Header(at, &frame, &why)) {
      if (!Report(at, why)) return false;
      if (!Resync(at + 1)) done_ = true;
      ++chunk_ordinal_;
      continue;
    }
    if (frame.length > file_size_ - at - kFrameHeaderSize) {
      if (!Report(at, "truncated " + std::string(FrameKindName(frame.kind)) + ": frame needs " +
                          std::to_string(frame.length) + " bytes, " +
                          std::to_string(file_size_ - at - kFrameHeaderSize) + " remain")) {
        return false;
      }
      if (!Resync(at + 1)) done_ = true;
      continue;
    }
    const FrameScanner::Verdict verdict =
        at == resynced_at_ ? FrameScanner::Verdict::kMatch : scanner_.Verify(at, frame);
    if (verdict != FrameScanner::Verdict::kMatch) {
      const std::string what = verdict == FrameScanner::Verdict::kMismatch
                                   ? " checksum mismatch"
                                   : " not verified: its bytes overlap " +
                                         std::to_string(FrameScanner::kMaxOverlap) +
                                         " frames that failed their checksum";
      if (!Report(at, std::string(FrameKindName(frame.kind)) + what)) return false;
      ++chunk_ordinal_;
      if (!Resync(at + 1)) done_ = true;
      continue;
    }
    payload_.resize(frame.length);
    if (!scanner_.Read(at + kFrameHeaderSize, payload_.data(), frame.length)) {
      Report(at, "read error");
      done_ = true;
      return false;
    }
    const uint64_t sum = frame.checksum;
    offset_ = at + kFrameHeaderSize + frame.length;
    if (has_footer_) {
      if (!Report(at, "data after the footer")) return false;
      continue;
    }
    if (frame.kind == FrameKind::kHeader) {
      if (!Report(at, "a second header frame")) return false;
      continue;
    }
    if (frame.kind == FrameKind::kFooter) {
      if (!footer_.ParseFromString(payload_)) {
        if (!Report(at, "footer message does not parse", FrameKind::kFooter)) return false;
        continue;
      }
      has_footer_ = true;
      const uint64_t expect_sum = chunks_checksum_.Digest();
      if (footer_.event_count() != next_event_index_) {
        if (!Report(at,
                    "footer counts " + std::to_string(footer_.event_count()) +
                        " events, the chunks hold " + std::to_string(next_event_index_),
                    FrameKind::kFooter)) {
          return false;
        }
      } else if (footer_.chunk_count() != chunks_checksum_.count() ||
                 footer_.chunks_checksum() != expect_sum) {
        if (!Report(at,
                    "footer checksum of the chunk sequence does not match (" +
                        std::to_string(footer_.chunk_count()) + " chunks expected, " +
                        std::to_string(chunks_checksum_.count()) + " read)",
                    FrameKind::kFooter)) {
          return false;
        }
      } else if (damage_count_ == 0) {
        complete_ = true;
      }
      continue;
    }
    // A chunk.
    Status s = decoder_.Decode(payload_.data(), payload_.size(), strings_.last_id(),
                               damage_count_ != 0, &chunk_);
    if (!s.ok()) {
      if (!Report(at, s.message())) return false;
      ++chunk_ordinal_;
      continue;
    }
    if (chunk_.first_event_index != next_event_index_) {
      if (chunk_.first_event_index < next_event_index_ || !options_.skip_damage) {
        if (!Report(at, "chunk starts at event " + std::to_string(chunk_.first_event_index) +
                            ", expected " + std::to_string(next_event_index_))) {
          return false;
        }
        ++chunk_ordinal_;
        continue;
      }
      // Skip mode: the events in between were in damaged chunks.
    }
    if (Status added = strings_.Add(chunk_.first_string_id, &chunk_.strings); !added.ok()) {
      if (!Report(at, added.message())) return false;
      ++chunk_ordinal_;
      continue;
    }
    chunks_checksum_.Add(sum);
    next_event_index_ = chunk_.first_event_index + chunk_.events.size();
    ++chunk_ordinal_;
    ++chunks_read_;
    cursor_ = 0;
    chunk_size_ = chunk_.events.size();
    if (chunk_size_ != 0) return true;
  }
  return false;
}

bool BinaryTraceReader::Next(Event* event) {
  if (cursor_ >= chunk_size_) {
    chunk_size_ = 0;
    cursor_ = 0;
    if (!LoadNextChunk()) return false;
  }
  *event = chunk_.events[cursor_++];
  ++events_read_;
  return true;
}

const std::vector<Event>* BinaryTraceReader::NextChunk() {
  chunk_size_ = 0;
  cursor_ = 0;
  if (!LoadNextChunk()) return nullptr;
  cursor_ = chunk_size_;
  events_read_ += chunk_.events.size();
  return &chunk_.events;
}

bool BinaryTraceReader::NextChunkInto(std::vector<Event>* events) {
  if (NextChunk() == nullptr) return false;
  events->swap(chunk_.events);
  return true;
}

std::string_view BinaryTraceReader::String(uint32_t id) const { return strings_.Find(id); }

}  // namespace vmreplay
