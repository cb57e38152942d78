// `vmreplay backends` (also `vmreplay managers`): the managers with their knobs, the platforms
// and the heaps this build offers, and what the old --backend names stand for.
#include <iomanip>
#include <iostream>

#include "replayer/cli/command.h"
#include "replayer/heaps/heap_backend.h"
#include "replayer/managers/manager_options.h"
#include "replayer/platforms/platform.h"

namespace vmreplay::cli {

int RunBackends(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: vmreplay backends\n";
    return kExitOk;
  }
  std::cout << "managers (--manager=NAME[:KNOB=VALUE,...]):\n";
  for (const auto& m : replay::Managers()) {
    std::cout << "  " << std::left << std::setw(16) << m.name << m.policy << "\n"
              << "  " << std::setw(16) << ""
              << "trades: " << m.trades << "\n";
    for (const auto& k : replay::ManagerKnobs()) {
      if (k.manager != m.name) continue;
      std::string value =
          std::string(k.name) + "=" +
          (k.kind == replay::KnobKind::kChoice ? std::string(k.choices) : std::string("BYTES"));
      std::cout << "  " << std::setw(16) << ""
                << "  " << std::setw(34) << value << k.help << " (default " << k.default_value
                << ")\n";
    }
  }
  std::cout << "platforms (--platform):\n";
  for (const auto& p : replay::Platforms()) {
    std::cout << "  " << std::left << std::setw(16) << p.name << p.summary << "\n";
  }
  std::cout << "heaps (--heap):\n";
  for (const auto& h : replay::HeapBackends()) {
    std::cout << "  " << std::left << std::setw(16) << h.name << h.summary
              << (h.available ? "" : " [not available in this build]") << "\n";
  }
  std::cout << "--backend (the old names): sim = passthrough/sim, os = passthrough/os, "
               "arena = arena/os, or MANAGER/PLATFORM\n";
  return kExitOk;
}

}  // namespace vmreplay::cli
