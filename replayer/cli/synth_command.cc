// vmreplay synth: generate a synthetic CLR workload trace.
#include <cstdio>

#include "replayer/cli/command.h"
#include "traces/synth/synth.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

int RunSynth(const std::vector<std::string>& args) {
  synth::SynthOptions o;
  std::string profile;
  std::string out;
  po::options_description options("synth options");
  options.add_options()("profile", po::value(&profile)->required(),
                        "workstation-gc, server-gc, pressure, linux-workstation or linux-server")(
      "output,o", po::value(&out)->required(), "trace to write")(
      "seed", po::value(&o.seed)->default_value(o.seed), "random seed (same seed, same trace)")(
      "duration-s", po::value(&o.duration_s)->default_value(o.duration_s),
      "simulated seconds to generate")(
      "heap-mb", po::value(&o.heap_mb)->default_value(o.heap_mb),
      "managed heap size the workload grows toward (pressure: also the physical memory)")(
      "threads", po::value(&o.threads)->default_value(o.threads),
      "mutator threads (server-gc: also GC heaps)")(
      "events", po::value(&o.max_events)->default_value(0), "stop after N events (0 = no cap)")(
      "loader-blocks-max", po::value(&o.loader_blocks_max)->default_value(0),
      "live loader blocks at most, so that a long run's host heap plateaus (0 = no cap)");
  po::variables_map vm;
  if (int rc = ParseArgs(args, "vmreplay synth --profile=NAME -o OUT.pb [options]", options,
                         po::positional_options_description(), &vm);
      rc >= 0) {
    return rc;
  }
  if (Status s = synth::ParseProfile(profile, &o.profile); !s.ok()) {
    PrintError(s.message());
    return kExitUsage;
  }
  if (Status s = synth::Validate(o); !s.ok()) {
    PrintError(s.message());
    return kExitUsage;
  }
  std::vector<std::string> command_line = {"vmreplay", "synth"};
  command_line.insert(command_line.end(), args.begin(), args.end());
  if (Status s = synth::Synthesize(o, command_line, out); !s.ok()) {
    PrintError(s.message());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace vmreplay::cli
