// `vmreplay backends`: the VM and heap backends this build offers.
#include <iomanip>
#include <iostream>

#include "replayer/cli/command.h"
#include "replayer/heap_backend.h"
#include "replayer/vm_backend.h"

namespace vmreplay::cli {

int RunBackends(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: vmreplay backends\n";
    return kExitOk;
  }
  std::cout << "VM backends (--backend):\n";
  for (const auto& b : replay::VmBackends()) {
    std::cout << "  " << std::left << std::setw(10) << b.name << b.summary << "\n";
  }
  std::cout << "heap backends (--heap):\n";
  for (const auto& h : replay::HeapBackends()) {
    std::cout << "  " << std::left << std::setw(10) << h.name << h.summary
              << (h.available ? "" : " [not available in this build]") << "\n";
  }
  return kExitOk;
}

}  // namespace vmreplay::cli
