#include "replayer/cli/command.h"

#include <iostream>

namespace vmreplay::cli {

namespace po = boost::program_options;

int ParseArgs(const std::vector<std::string>& args, std::string_view usage,
              const po::options_description& options,
              const po::positional_options_description& positional, po::variables_map* vm) {
  po::options_description all;
  all.add(options);
  all.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), *vm);
    if (vm->count("help")) {
      std::cout << "usage: " << usage << "\n\n" << all << "\n";
      return kExitOk;
    }
    po::notify(*vm);
  } catch (const po::error& e) {
    std::cerr << "vmreplay: " << e.what() << "\nusage: " << usage << "\n";
    return kExitUsage;
  }
  return -1;
}

void PrintError(std::string_view message) { std::cerr << "vmreplay: " << message << "\n"; }

}  // namespace vmreplay::cli
