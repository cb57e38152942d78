// vmreplay: record-and-replay simulator for host memory traffic.
#include <exception>
#include <filesystem>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "replayer/cli/command.h"

#ifndef VMREPLAY_VERSION
#define VMREPLAY_VERSION "0.0.0"
#endif

namespace vmreplay::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"info", "summarise a trace: header, events per operation, threads, time span", RunInfo},
      {"check", "verify every chunk and the footer; --salvage OUT.pb keeps intact events",
       RunCheck},
      {"dump", "write a trace in the text form, one event per line", RunDump},
      {"encode", "write a trace (text or binary) in the binary form", RunEncode},
      {"replay",
       "replay a trace on manager x platform x heap cells, side by side (also: "
       "vmreplay TRACE ...)",
       RunReplay},
      {"managers", "list the managers and their knobs, the platforms and the heaps", RunBackends},
      {"backends", "the same as managers", RunBackends},
      {"synth",
       "generate a synthetic CLR workload trace (workstation-gc, server-gc, pressure, linux-*)",
       RunSynth},
      {"import", "convert an mtrace, strace or record_allocs log into a trace", RunImport},
      {"gate", "CI regression gate: replay a corpus, compare with a baseline (exit 1 = regressed)",
       RunGate},
      {"schema", "the trace format's field and operation table as JSON (for other readers)",
       RunSchema},
      {"diff", "compare two replay results (vmreplay TRACE --json) figure by figure", RunDiff},
      {"lift", "lift a Linux .NET recording to the IHostMemoryManager calls (--clr)", RunLift},
  };
  return commands;
}

namespace {

void PrintUsage(std::ostream& out) {
  out << "usage: vmreplay COMMAND [ARGS] (vmreplay COMMAND --help for its options)\n"
         "       vmreplay TRACE [--backend=sim|os|arena ...] (same as vmreplay replay)\n\n"
         "commands:\n";
  for (const Command& c : Commands()) {
    out << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << "\n";
  }
  out << "\n  --version   print the version\n";
}

}  // namespace
}  // namespace vmreplay::cli

int Main(int argc, char** argv) {
  using namespace vmreplay::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintUsage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "--version") {
    std::cout << "vmreplay " << VMREPLAY_VERSION << " (trace format 1)\n";
    return kExitOk;
  }
  for (const Command& c : Commands()) {
    if (args[0] == c.name) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  // Not a subcommand: `vmreplay TRACE --backend=...` is the replay command. A bare word that
  // is not a file is more likely a mistyped command than a trace.
  const bool looks_like_path = args[0].find_first_of("./") != std::string::npos;
  if (!args[0].starts_with("-") && (looks_like_path || std::filesystem::exists(args[0]))) {
    return RunReplay(args);
  }
  if (!args[0].starts_with("-")) {
    PrintError("unknown command '" + args[0] + "' (and no trace file of that name)");
    PrintUsage(std::cerr);
    return kExitUsage;
  }
  PrintError("unknown option '" + args[0] + "'");
  PrintUsage(std::cerr);
  return kExitUsage;
}

// Running out of memory is reported, never a crash.
int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::bad_alloc&) {
    vmreplay::cli::PrintError("out of memory");
  } catch (const std::exception& e) {
    vmreplay::cli::PrintError(std::string("internal error: ") + e.what());
  }
  return vmreplay::cli::kExitFailure;
}
