// vmreplay check: verify a trace and optionally salvage what is intact.
#include <cinttypes>
#include <cstdio>
#include <memory>

#include "proto/binary_trace_reader.h"
#include "proto/trace_writer.h"
#include "replayer/cli/command.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

int RunCheck(const std::vector<std::string>& args) {
  std::string path, salvage;
  po::options_description options("check options");
  options.add_options()("trace", po::value(&path)->required(), "binary trace file")(
      "salvage", po::value(&salvage), "write every intact event to this new trace");
  po::positional_options_description positional;
  positional.add("trace", 1);
  po::variables_map vm;
  if (int rc = ParseArgs(args, "vmreplay check TRACE [--salvage OUT.pb]", options, positional, &vm);
      rc >= 0) {
    return rc;
  }
  std::unique_ptr<BinaryTraceReader> reader;
  Status status = BinaryTraceReader::Open(path, ReaderOptions{.skip_damage = true}, &reader);
  if (!status.ok()) {
    PrintError(status.message());
    return kExitFailure;
  }
  std::unique_ptr<TraceWriter> writer;
  if (!salvage.empty()) {
    proto::Header header = reader->header();
    (*header.mutable_metadata())["salvaged_from"] = path;
    status = TraceWriter::Create(salvage, header, WriterOptions(), &writer);
    if (!status.ok()) {
      PrintError(status.message());
      return kExitFailure;
    }
  }
  while (const std::vector<Event>* events = reader->NextChunk()) {
    if (!writer) continue;
    for (Event e : *events) {
      if (e.file != 0) e.file = writer->InternString(reader->String(e.file));
      status = writer->Append(e);
      if (!status.ok()) break;
    }
    if (!status.ok()) break;
  }
  if (writer && status.ok()) status = writer->Finish();
  if (!status.ok()) {
    PrintError(status.message());
    return kExitFailure;
  }
  for (const Damage& d : reader->damage()) {
    std::printf("DAMAGE %s: %s (byte offset %" PRIu64 ", after %" PRIu64 " intact events): %s\n",
                path.c_str(), d.frame.c_str(), d.byte_offset, d.events_before, d.what.c_str());
  }
  if (reader->damage_count() > reader->damage().size()) {
    std::printf("DAMAGE %s: %" PRIu64 " more damaged places not listed\n", path.c_str(),
                reader->damage_count() - reader->damage().size());
  }
  if (reader->scan_stats().unverified != 0) {
    std::printf("DAMAGE %s: %" PRIu64
                " frame headers in damaged bytes left unverified (each byte is checked against "
                "at most %zu failed frames)\n",
                path.c_str(), reader->scan_stats().unverified, FrameScanner::kMaxOverlap);
  }
  const bool ok = reader->damage_count() == 0 && reader->complete();
  std::printf("%s %s: %" PRIu64 " intact events in %" PRIu64 " chunks, %" PRIu64
              " damaged places, "
              "footer %s\n",
              ok ? "OK" : "DAMAGED", path.c_str(), reader->events_read(), reader->chunks_read(),
              reader->damage_count(),
              reader->complete() ? "verified" : (reader->footer() ? "inconsistent" : "missing"));
  if (writer) {
    std::printf("salvaged %" PRIu64 " events to %s\n", writer->events_written(), salvage.c_str());
  }
  return ok ? kExitOk : kExitFailure;
}

}  // namespace vmreplay::cli
