#include "replayer/importers/importer.h"

#include <cstdio>
#include <fstream>

#include "proto/trace_writer.h"
#include "replayer/importers/mtrace_importer.h"
#include "replayer/importers/record_allocs_importer.h"
#include "replayer/importers/strace_importer.h"

namespace vmreplay::importers {
namespace {

// Lines longer than this are an error, which bounds memory whatever the input.
constexpr size_t kMaxLine = 1 << 20;

class WriterSink : public EventSink {
 public:
  explicit WriterSink(TraceWriter* w) : w_(w) {}
  Status Append(const Event& e) override { return w_->Append(e); }
  uint32_t InternString(std::string_view s) override { return w_->InternString(s); }

 private:
  TraceWriter* w_;
};

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kMtrace:
      return "mtrace";
    case Format::kStrace:
      return "strace";
    case Format::kRecordAllocs:
      return "record_allocs";
  }
  return "?";
}

Status ParseFormat(std::string_view name, Format* out) {
  for (Format f : {Format::kMtrace, Format::kStrace, Format::kRecordAllocs}) {
    if (name == FormatName(f)) {
      *out = f;
      return Status::Ok();
    }
  }
  return Status::Error("unknown format '" + std::string(name) +
                       "' (mtrace, strace, record_allocs)");
}

std::unique_ptr<LineParser> MakeParser(Format format, const std::string& name) {
  switch (format) {
    case Format::kMtrace:
      return MakeMtraceParser(name);
    case Format::kStrace:
      return MakeStraceParser(name);
    case Format::kRecordAllocs:
      return MakeRecordAllocsParser(name);
  }
  return nullptr;
}

proto::Header MakeImportHeader(Format format, const std::string& input,
                               const std::vector<std::string>& command_line) {
  proto::Header h;
  h.set_platform(proto::PLATFORM_LINUX);
  h.set_page_size(4096);
  h.set_allocation_granularity(4096);
  h.set_min_user_address(0x10000);
  h.set_max_user_address(0x7FFFFFFFEFFF);
  h.set_source(proto::SOURCE_IMPORTED);
  h.set_pointer_bits(64);
  for (const std::string& a : command_line) h.add_command_line(a);
  (*h.mutable_metadata())["import.format"] = std::string(FormatName(format));
  (*h.mutable_metadata())["import.input"] = BaseName(input);
  return h;
}

Status ImportStream(Format format, std::istream& in, const std::string& name, EventSink* sink,
                    ImportStats* stats) {
  std::unique_ptr<LineParser> parser = MakeParser(format, name);
  std::unique_ptr<char[]> buf(new char[kMaxLine + 1]);
  uint64_t n = 0;
  while (true) {
    in.getline(buf.get(), kMaxLine + 1);
    const std::streamsize got = in.gcount();
    if (got == 0 && (in.eof() || in.fail())) {
      if (in.bad()) return Status::Error(name + ":" + std::to_string(n + 1) + ": read error");
      break;
    }
    ++n;
    if (in.fail() && !in.eof()) {
      return Status::Error(name + ":" + std::to_string(n) + ": line longer than " +
                           std::to_string(kMaxLine) + " bytes");
    }
    size_t len = static_cast<size_t>(got);
    if (len > 0 && buf[len - 1] == '\0') --len;  // getline counts the newline it extracted
    ++stats->lines;
    const std::string_view line(buf.get(), len);
    if (line.find('\0') != std::string_view::npos) {
      return Status::Error(name + ":" + std::to_string(n) + ": NUL byte (binary input?)");
    }
    VMREPLAY_RETURN_IF_ERROR(parser->Line(line, n, sink, stats));
    if (in.eof()) break;
  }
  return parser->Finish(n, sink, stats);
}

Status ImportFile(Format format, const std::string& in_path, const std::string& out_path,
                  const std::vector<std::string>& command_line, ImportStats* stats) {
  std::ifstream in(in_path, std::ios::binary);
  if (!in) return Status::Error(in_path + ": cannot open");
  std::unique_ptr<TraceWriter> writer;
  VMREPLAY_RETURN_IF_ERROR(TraceWriter::Create(
      out_path, MakeImportHeader(format, in_path, command_line), WriterOptions(), &writer));
  WriterSink sink(writer.get());
  Status s = ImportStream(format, in, in_path, &sink, stats);
  if (s.ok()) s = writer->Finish();
  if (!s.ok()) {
    writer.reset();
    std::remove(out_path.c_str());
  }
  return s;
}

}  // namespace vmreplay::importers
