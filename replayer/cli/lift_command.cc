// vmreplay lift --clr: a Linux recording of a .NET process as the IHostMemoryManager /
// IHostMalloc calls the CLR would have made (replayer/lift/README.md).
#include <iostream>

#include "replayer/cli/command.h"
#include "replayer/lift/clr_lift.h"
#include "replayer/lift/gc_commit_oracle.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

int RunLift(const std::vector<std::string>& args) {
  std::string in;
  std::string out;
  std::string oracle;
  bool clr = false;
  bool quiet = false;
  po::options_description options("lift options");
  options.add_options()("clr", po::bool_switch(&clr), "the recording is of a .NET process")(
      "input", po::value(&in)->required(), "vmrecord trace of the process")(
      "output,o", po::value(&out)->required(), "lifted trace to write")(
      "oracle", po::value(&oracle),
      "the workload's output: compare its 'vmreplay-oracle' GC figures with the lifted trace")(
      "quiet,q", po::bool_switch(&quiet), "do not print the classification table");
  po::positional_options_description positional;
  positional.add("input", 1);
  po::variables_map vm;
  if (int rc = ParseArgs(args, "vmreplay lift --clr TRACE -o OUT.pb [--oracle OUTPUT.txt]", options,
                         positional, &vm);
      rc >= 0) {
    return rc;
  }
  if (!clr) {
    PrintError("lift: say what was recorded: --clr (the only lift so far)");
    return kExitUsage;
  }
  lift::LiftResult result;
  if (Status s = lift::LiftClrTrace(in, out, WriterOptions(), &result); !s.ok()) {
    PrintError(s.message());
    return kExitFailure;
  }
  if (!quiet) std::cout << result.stats.FormatTable();
  std::cout << lift::LargestReservationNote(result.largest) << "\n";
  if (oracle.empty()) return kExitOk;
  std::vector<lift::OracleCheckpoint> checkpoints;
  std::vector<lift::OracleComparison> comparisons;
  Status s = lift::ParseOracleOutput(oracle, &checkpoints);
  if (s.ok()) s = lift::CompareWithLiftedTrace(out, checkpoints, &comparisons);
  if (!s.ok()) {
    PrintError(s.message());
    return kExitFailure;
  }
  std::cout << lift::FormatComparisons(comparisons);
  return kExitOk;
}

}  // namespace vmreplay::cli
