#include "proto/trace_writer.h"

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

#include "proto/chunk_codec.h"
#include "proto/frame.h"
#include "proto/portable/byte_escape.h"
#include "proto/portable/utf8.h"

namespace vmreplay {
namespace {

// Maps (header metadata) serialize in hash order unless asked otherwise; deterministic bytes
// make dump -> encode reproduce a trace exactly.
std::string SerializeDeterministic(const google::protobuf::MessageLite& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

class FileTraceWriter final : public TraceWriter {
 public:
  FileTraceWriter(std::string path, std::FILE* file, const WriterOptions& options)
      : path_(std::move(path)), file_(file), options_(options) {
    if (options_.events_per_chunk == 0 || options_.events_per_chunk > kMaxEventsPerChunk) {
      options_.events_per_chunk = WriterOptions().events_per_chunk;
    }
  }
  ~FileTraceWriter() override {
    if (file_ != nullptr) std::fclose(file_);
  }

  Status WriteHeader(const proto::Header& header) {
    proto::Header h = header;
    if (h.format_major() == 0) h.set_format_major(kFormatMajor);
    // What this writer writes may hold bytes a 1.0 reader refuses: say so, whatever the
    // header came from (an older trace being re-encoded says 1.0).
    if (h.format_major() == kFormatMajor && h.format_minor() < kFormatMinor) {
      h.set_format_minor(kFormatMinor);
    }
    const std::string payload = SerializeDeterministic(h);
    frame_.assign(kFileMagic, sizeof kFileMagic);
    AppendFrame(FrameKind::kHeader, payload, &frame_);
    return WriteOut(frame_);
  }

  uint32_t InternString(std::string_view s) override {
    auto it = string_ids_.find(std::string(s));
    if (it != string_ids_.end()) return it->second;
    uint32_t id = static_cast<uint32_t>(string_ids_.size()) + 1;
    string_ids_.emplace(std::string(s), id);
    new_strings_.emplace_back(s);
    return id;
  }

  Status Append(const Event& event) override {
    if (!status_.ok()) return status_;
    if (finished_) return status_ = Status::Error(path_ + ": Append after Finish");
    if (!IsValidOp(static_cast<uint32_t>(event.op))) {
      return Status::Error(path_ + ": event " + std::to_string(written_ + pending_.size()) +
                           ": invalid operation code " +
                           std::to_string(static_cast<uint32_t>(event.op)));
    }
    // Reserved at the first Append, not up front: writers fed by AppendColumns never need it.
    if (pending_.capacity() == 0) pending_.reserve(options_.events_per_chunk);
    pending_.push_back(event);
    // Consecutive events mostly come from one thread: skip the hash lookup for those.
    if (last_thread_count_ == nullptr || event.thread != last_thread_) {
      last_thread_ = event.thread;
      last_thread_count_ = &thread_counts_[event.thread];  // references into the map are stable
    }
    ++*last_thread_count_;
    if (pending_.size() >= options_.events_per_chunk) return FlushChunk();
    return Status::Ok();
  }

  Status AppendColumns(std::string_view columns, uint32_t event_count,
                       std::span<const ThreadEvents> threads) override {
    if (!status_.ok()) return status_;
    if (finished_) return status_ = Status::Error(path_ + ": Append after Finish");
    if (event_count == 0) return status_;
    VMREPLAY_RETURN_IF_ERROR(FlushChunk());
    encoder_.EncodeColumns(columns, written_, event_count, options_.compress, options_.zstd_level,
                           &chunk_bytes_);
    for (const ThreadEvents& t : threads) thread_counts_[t.thread] += t.events;
    written_ += event_count;
    return WriteChunk();
  }

  Status Finish(const proto::Footer& extra) override {
    if (finished_) return status_;
    finished_ = true;
    VMREPLAY_RETURN_IF_ERROR(FlushChunk());
    proto::Footer footer = extra;
    footer.set_event_count(written_);
    footer.set_chunk_count(chunks_checksum_.count());
    footer.set_chunks_checksum(chunks_checksum_.Digest());
    // Thread list: counts from the events, names from the caller where given.
    std::map<uint64_t, std::string> names;
    for (const auto& t : extra.threads()) names[t.thread_id()] = t.name();
    footer.clear_threads();
    for (const auto& [tid, count] :
         std::map<uint64_t, uint64_t>(thread_counts_.begin(), thread_counts_.end())) {
      proto::ThreadInfo* t = footer.add_threads();
      t->set_thread_id(tid);
      t->set_event_count(count);
      if (auto it = names.find(tid); it != names.end()) t->set_name(it->second);
    }
    const std::string payload = SerializeDeterministic(footer);
    frame_.clear();
    AppendFrame(FrameKind::kFooter, payload, &frame_);
    VMREPLAY_RETURN_IF_ERROR(WriteOut(frame_));
    if (std::fclose(file_) != 0) {
      file_ = nullptr;
      return status_ = Status::Error(path_ + ": close failed: " + std::strerror(errno));
    }
    file_ = nullptr;
    return status_;
  }

  uint64_t events_written() const override { return written_ + pending_.size(); }

 private:
  Status FlushChunk() {
    if (pending_.empty()) return status_;
    encoder_.Encode(pending_, written_, first_new_string_id(), new_strings_, options_.compress,
                    options_.zstd_level, &chunk_bytes_);
    written_ += pending_.size();
    pending_.clear();
    new_strings_.clear();
    return WriteChunk();
  }

  // Frames and writes the chunk in chunk_bytes_.
  Status WriteChunk() {
    chunks_checksum_.Add(Checksum(chunk_bytes_.data(), chunk_bytes_.size()));
    frame_.clear();
    AppendFrame(FrameKind::kChunk, chunk_bytes_, &frame_);
    return WriteOut(frame_);
  }

  uint32_t first_new_string_id() const {
    return static_cast<uint32_t>(string_ids_.size() - new_strings_.size()) + 1;
  }

  Status WriteOut(const std::string& bytes) {
    if (!status_.ok()) return status_;
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      status_ = Status::Error(path_ + ": write failed: " + std::strerror(errno));
    }
    return status_;
  }

  std::string path_;
  std::FILE* file_;
  WriterOptions options_;
  Status status_;
  bool finished_ = false;
  uint64_t written_ = 0;
  std::vector<Event> pending_;
  std::vector<std::string> new_strings_;
  std::unordered_map<std::string, uint32_t> string_ids_;
  std::unordered_map<uint64_t, uint64_t> thread_counts_;
  uint64_t last_thread_ = 0;
  uint64_t* last_thread_count_ = nullptr;
  ChunkSequenceChecksum chunks_checksum_;  // constant memory however long the trace
  ChunkEncoder encoder_;
  std::string chunk_bytes_;
  std::string frame_;
};

}  // namespace

Status TraceWriter::Create(const std::string& path, const proto::Header& header,
                           const WriterOptions& options, std::unique_ptr<TraceWriter>* out) {
  if (header.format_major() != 0 && header.format_major() != kFormatMajor) {
    return Status::Error(path + ": cannot write format version " +
                         std::to_string(header.format_major()));
  }
  for (const auto& [key, value] : header.metadata()) {
    // A map key protobuf would write but no reader could parse back: refuse it up front.
    if (!IsValidUtf8(key)) {
      return Status::Error(path + ": metadata key \"" + EscapeBytes(key) +
                           "\" is not UTF-8 (metadata keys are protobuf map keys)");
    }
  }
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return Status::Error(path + ": cannot create: " + std::strerror(errno));
  }
  auto writer = std::make_unique<FileTraceWriter>(path, file, options);
  VMREPLAY_RETURN_IF_ERROR(writer->WriteHeader(header));
  *out = std::move(writer);
  return Status::Ok();
}

}  // namespace vmreplay
