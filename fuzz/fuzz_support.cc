#include "fuzz/fuzz_support.h"

#include <google/protobuf/util/message_differencer.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <unordered_map>

#include "proto/event_source.h"
#include "proto/frame.h"
#include "proto/trace_writer.h"
#include "replayer/importers/importer.h"

namespace vmreplay::fuzz {

void Require(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "FUZZ FINDING: %s\n", what.c_str());
  std::abort();
}

MemFile::MemFile(std::string_view bytes) : fd_(memfd_create("vmreplay-fuzz", 0)) {
  Require(fd_ >= 0, "memfd_create failed");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd_, bytes.data() + done, bytes.size() - done);
    Require(n > 0, "write to memfd failed");
    done += static_cast<size_t>(n);
  }
  path_ = "/proc/self/fd/" + std::to_string(fd_);
}

MemFile::~MemFile() { close(fd_); }

void RequireOneLineError(const Status& s, const std::string& prefix) {
  Require(s.message().rfind(prefix, 0) == 0, "error does not name its input: " + s.message());
  Require(s.message().find('\n') == std::string::npos, "error is not one line: " + s.message());
}

Status ReadTrace(const std::string& path, Trace* out) {
  *out = Trace();
  std::unique_ptr<EventSource> source;
  Status s = OpenTrace(path, &source);
  if (!s.ok()) {
    RequireOneLineError(s, path);
    return s;
  }
  out->header = source->header();
  Event e;
  while (source->Next(&e)) {
    out->files.emplace_back(e.file == 0 ? std::string_view() : source->String(e.file));
    e.file = 0;
    out->events.push_back(e);
  }
  if (!source->status().ok()) {
    RequireOneLineError(source->status(), path);
    return source->status();
  }
  if (const proto::Footer* f = source->footer()) {
    out->has_footer = true;
    out->footer = *f;
  }
  return Status::Ok();
}

void WriteTrace(const Trace& trace, bool compress, const std::string& path) {
  std::unique_ptr<TraceWriter> writer;
  Status s = TraceWriter::Create(
      path, trace.header, WriterOptions{.events_per_chunk = 64, .compress = compress}, &writer);
  Require(s.ok(), "cannot write what was read: " + s.message());
  for (size_t i = 0; i < trace.events.size(); ++i) {
    Event e = trace.events[i];
    // A file id whose string was lost to damage reads as "", as does no file at all.
    e.file = trace.files[i].empty() ? 0 : writer->InternString(trace.files[i]);
    s = writer->Append(e);
    Require(s.ok(), "cannot append what was read: " + s.message());
  }
  s = writer->Finish(trace.has_footer ? trace.footer : proto::Footer());
  Require(s.ok(), "cannot finish: " + s.message());
}

Trace RequireRoundTrip(const Trace& trace, bool compress, const std::string& what) {
  MemFile file;
  WriteTrace(trace, compress, file.path());
  Trace back;
  Status s = ReadTrace(file.path(), &back);
  Require(s.ok(), what + ": does not read back: " + s.message());
  RequireSameTrace(trace, back, what);
  return back;
}

void RequireSameTrace(const Trace& a, const Trace& b, const std::string& what) {
  Require(a.events.size() == b.events.size(), what + ": " + std::to_string(a.events.size()) +
                                                  " events became " +
                                                  std::to_string(b.events.size()));
  for (size_t i = 0; i < a.events.size(); ++i) {
    Require(a.events[i] == b.events[i], what + ": event " + std::to_string(i) + " differs");
    Require(a.files[i] == b.files[i], what + ": file name of event " + std::to_string(i));
  }
  proto::Header ha = a.header, hb = b.header;
  ha.clear_format_minor();
  hb.clear_format_minor();
  Require(google::protobuf::util::MessageDifferencer::Equals(ha, hb), what + ": header differs");
}

void FixFrameChecksums(std::string* bytes) {
  size_t at = sizeof kFileMagic;
  while (bytes->size() - at >= kFrameHeaderSize && at <= bytes->size()) {
    auto* p = reinterpret_cast<unsigned char*>(bytes->data() + at);
    FrameHeader frame;
    std::string why;
    if (!ParseFrameHeader(p, &frame, &why)) return;
    if (frame.length > bytes->size() - at - kFrameHeaderSize) return;
    const uint64_t sum = Checksum(p + kFrameHeaderSize, frame.length);
    for (int i = 0; i < 8; ++i) p[12 + i] = static_cast<unsigned char>(sum >> (8 * i));
    at += kFrameHeaderSize + frame.length;
  }
}

namespace {

class VectorSink : public importers::EventSink {
 public:
  Status Append(const Event& e) override {
    events.push_back(e);
    return Status::Ok();
  }
  uint32_t InternString(std::string_view s) override {
    auto [it, added] = ids.emplace(std::string(s), static_cast<uint32_t>(strings.size()) + 1);
    if (added) strings.emplace_back(s);
    return it->second;
  }
  std::vector<Event> events;
  std::vector<std::string> strings;
  std::unordered_map<std::string, uint32_t> ids;
};

}  // namespace

int ImportRoundTrip(int format_code, const uint8_t* data, size_t size) {
  const auto format = static_cast<importers::Format>(format_code);
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  VectorSink sink;
  importers::ImportStats stats;
  Status s = importers::ImportStream(format, in, "input.log", &sink, &stats);
  if (!s.ok()) {
    RequireOneLineError(s, "input.log:");
    return 0;
  }
  Require(stats.events == sink.events.size(), "stats count other events than were produced");
  Trace imported;
  imported.header = importers::MakeImportHeader(format, "input.log", {"fuzz"});
  imported.header.set_format_major(kFormatMajor);  // what the writer fills in
  for (Event e : sink.events) {
    Require(IsValidOp(static_cast<uint32_t>(e.op)), "importer produced an invalid operation");
    Require(e.file <= sink.strings.size(), "importer produced an unknown string id");
    imported.files.push_back(e.file == 0 ? std::string() : sink.strings[e.file - 1]);
    e.file = 0;
    imported.events.push_back(e);
  }
  RequireRoundTrip(imported, /*compress=*/true, "import -> encode -> read");
  return 0;
}

}  // namespace vmreplay::fuzz
