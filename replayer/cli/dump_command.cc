// vmreplay dump: the text form of a trace.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "proto/event_source.h"
#include "proto/text_format.h"
#include "replayer/cli/command.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

int RunDump(const std::vector<std::string>& args) {
  std::string path, output;
  po::options_description options("dump options");
  options.add_options()("trace", po::value(&path)->required(), "trace file")(
      "output,o", po::value(&output), "write here instead of standard output");
  po::positional_options_description positional;
  positional.add("trace", 1);
  po::variables_map vm;
  if (int rc = ParseArgs(args, "vmreplay dump TRACE [-o OUT.txt]", options, positional, &vm);
      rc >= 0) {
    return rc;
  }
  std::unique_ptr<EventSource> source;
  Status status = OpenTrace(path, &source);
  if (!status.ok()) {
    PrintError(status.message());
    return kExitFailure;
  }
  std::FILE* out = stdout;
  if (!output.empty()) {
    out = std::fopen(output.c_str(), "w");
    if (out == nullptr) {
      PrintError(output + ": cannot create: " + std::strerror(errno));
      return kExitFailure;
    }
  }
  std::string buf = FormatHeaderLine(source->header());
  buf.push_back('\n');
  auto strings = [&](uint32_t id) { return source->String(id); };
  Event e;
  while (source->Next(&e)) {
    AppendEventLine(e, strings, &buf);
    buf.push_back('\n');
    if (buf.size() > (1 << 16)) {
      std::fwrite(buf.data(), 1, buf.size(), out);
      buf.clear();
    }
  }
  if (source->status().ok() && source->footer() != nullptr) {
    buf += FormatFooterLine(*source->footer());
    buf.push_back('\n');
  }
  std::fwrite(buf.data(), 1, buf.size(), out);
  bool write_failed = std::ferror(out) != 0;
  if (out != stdout) write_failed |= std::fclose(out) != 0;
  if (!source->status().ok()) {
    PrintError(source->status().message());
    return kExitFailure;
  }
  if (write_failed) {
    PrintError((output.empty() ? std::string("standard output") : output) + ": write failed");
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace vmreplay::cli
