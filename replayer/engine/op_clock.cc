#include "replayer/engine/op_clock.h"

#include <fstream>
#include <string>

namespace vmreplay::replay {
namespace {

struct Calibration {
  bool use_tsc = false;
  double ns_per_tick = 1.0;
};

bool InvariantTsc() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      return line.find(" constant_tsc") != std::string::npos &&
             line.find(" nonstop_tsc") != std::string::npos;
    }
  }
  return false;
}

Calibration Calibrate() {
  Calibration c;
#if defined(__x86_64__)
  if (!InvariantTsc()) return c;
  using Steady = std::chrono::steady_clock;
  const auto t0 = Steady::now();
  const uint64_t c0 = __rdtsc();
  auto t1 = t0;
  while (t1 - t0 < std::chrono::milliseconds(2)) t1 = Steady::now();
  const uint64_t c1 = __rdtsc();
  const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
  if (c1 <= c0 || ns <= 0) return c;
  c.use_tsc = true;
  c.ns_per_tick = ns / static_cast<double>(c1 - c0);
#endif
  return c;
}

}  // namespace

OpClock::OpClock() {
  static const Calibration calibration = Calibrate();
  use_tsc_ = calibration.use_tsc;
  ns_per_tick_q32_ = static_cast<uint64_t>(calibration.ns_per_tick * 4294967296.0 + 0.5);
}

}  // namespace vmreplay::replay
