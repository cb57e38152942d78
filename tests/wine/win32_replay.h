// Replays a trace written by win32_oracle.exe on the simulator (layout-faithful mode, configured
// from the trace header) and compares every recorded outcome with the simulator's.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vmreplay::wine_test {

struct ReplayReport {
  std::string error;  // non-empty when the trace could not be read
  uint64_t events = 0;
  std::map<std::string, uint64_t> events_by_op;
  // Outcomes that differed only as a known Wine deviation (wine_deviations.h), by rule id.
  std::map<std::string, uint64_t> deviations;
  // One line per mismatching event: index, the event's line, Wine's and the simulator's outcome.
  std::vector<std::string> mismatches;
  uint64_t total_mismatches = 0;  // mismatches keeps the first kMaxListed only
  static constexpr size_t kMaxListed = 50;
};

ReplayReport ReplayOracleTrace(const std::string& path);

// A multi-line human summary (counts, deviations applied, listed mismatches).
std::string Describe(const std::string& name, const ReplayReport& report);

}  // namespace vmreplay::wine_test
