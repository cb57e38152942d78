// vmreplay encode: write any trace (text or binary) in the binary form.
#include <memory>

#include "proto/event_source.h"
#include "proto/trace_writer.h"
#include "replayer/cli/command.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

int RunEncode(const std::vector<std::string>& args) {
  std::string path, output;
  WriterOptions wo;
  bool no_compress = false;
  po::options_description options("encode options");
  options.add_options()("trace", po::value(&path)->required(), "text or binary trace")(
      "output,o", po::value(&output)->required(), "binary trace to write")(
      "chunk-events", po::value(&wo.events_per_chunk)->default_value(wo.events_per_chunk),
      "events per chunk")("zstd-level", po::value(&wo.zstd_level)->default_value(wo.zstd_level),
                          "zstd compression level")("no-compress", po::bool_switch(&no_compress),
                                                    "store chunks uncompressed");
  po::positional_options_description positional;
  positional.add("trace", 1);
  po::variables_map vm;
  if (int rc = ParseArgs(args, "vmreplay encode TRACE -o OUT.pb", options, positional, &vm);
      rc >= 0) {
    return rc;
  }
  wo.compress = !no_compress;
  std::unique_ptr<EventSource> source;
  Status status = OpenTrace(path, &source);
  std::unique_ptr<TraceWriter> writer;
  if (status.ok()) status = TraceWriter::Create(output, source->header(), wo, &writer);
  if (!status.ok()) {
    PrintError(status.message());
    return kExitFailure;
  }
  Event e;
  while (status.ok() && source->Next(&e)) {
    if (e.file != 0) e.file = writer->InternString(source->String(e.file));
    status = writer->Append(e);
  }
  if (status.ok()) status = source->status();
  if (status.ok()) {
    proto::Footer extra;
    if (const proto::Footer* f = source->footer()) extra = *f;
    status = writer->Finish(extra);
  }
  if (!status.ok()) {
    writer.reset();
    std::remove(output.c_str());  // never leave a half-written trace behind
    PrintError(status.message());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace vmreplay::cli
