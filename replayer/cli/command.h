// The vmreplay command line: one file per subcommand, each a thin layer over library calls.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace vmreplay::cli {

// Exit codes shared by all subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // bad input, damage found, divergence with --check
inline constexpr int kExitUsage = 2;

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& Commands();

int RunInfo(const std::vector<std::string>& args);
int RunCheck(const std::vector<std::string>& args);
int RunDump(const std::vector<std::string>& args);
int RunEncode(const std::vector<std::string>& args);
int RunReplay(const std::vector<std::string>& args);
int RunBackends(const std::vector<std::string>& args);
int RunSynth(const std::vector<std::string>& args);
int RunImport(const std::vector<std::string>& args);
int RunGate(const std::vector<std::string>& args);
int RunDiff(const std::vector<std::string>& args);
int RunLift(const std::vector<std::string>& args);
int RunSchema(const std::vector<std::string>& args);

// Parses `args` against `options` (+ positional), printing usage on --help or errors.
// Returns -1 to go on, or the exit code to return.
int ParseArgs(const std::vector<std::string>& args, std::string_view usage,
              const boost::program_options::options_description& options,
              const boost::program_options::positional_options_description& positional,
              boost::program_options::variables_map* vm);

// Prints "vmreplay: <message>" on stderr.
void PrintError(std::string_view message);

}  // namespace vmreplay::cli
