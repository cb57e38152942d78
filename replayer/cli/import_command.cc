// vmreplay import: convert an allocation log of another tool into a trace.
#include <cinttypes>
#include <cstdio>

#include "replayer/cli/command.h"
#include "replayer/importers/importer.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

int RunImport(const std::vector<std::string>& args) {
  std::string from, in, out;
  po::options_description options("import options");
  options.add_options()("from", po::value(&from)->required(),
                        "input format: mtrace, strace, record_allocs")(
      "input", po::value(&in)->required(), "the log to convert")(
      "output,o", po::value(&out)->required(), "trace to write");
  po::positional_options_description positional;
  positional.add("input", 1);
  po::variables_map vm;
  if (int rc =
          ParseArgs(args, "vmreplay import --from=FORMAT IN -o OUT.pb", options, positional, &vm);
      rc >= 0) {
    return rc;
  }
  importers::Format format;
  if (Status s = importers::ParseFormat(from, &format); !s.ok()) {
    PrintError(s.message());
    return kExitUsage;
  }
  std::vector<std::string> command_line = {"vmreplay", "import"};
  command_line.insert(command_line.end(), args.begin(), args.end());
  importers::ImportStats stats;
  if (Status s = importers::ImportFile(format, in, out, command_line, &stats); !s.ok()) {
    PrintError(s.message());
    return kExitFailure;
  }
  std::fprintf(stderr, "vmreplay: %" PRIu64 " lines, %" PRIu64 " events, %" PRIu64 " ignored\n",
               stats.lines, stats.events, stats.ignored);
  return kExitOk;
}

}  // namespace vmreplay::cli
