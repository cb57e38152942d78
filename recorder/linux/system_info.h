// Small facts about this system and its processes that the collector reads: clocks, and
// files under /proc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vmreplay::recorder {

uint64_t MonotonicNs();  // CLOCK_MONOTONIC
uint64_t WallNs();       // CLOCK_REALTIME, nanoseconds since the Unix epoch

// The whole content of a small file (as under /proc), or "" if it cannot be read.
std::string ReadSmallFile(const std::string& path);
// /proc/<pid>/cmdline split at its NULs.
std::vector<std::string> CommandLineOf(uint32_t pid);
// Splits NUL-separated strings (a trailing NUL ends the last one).
std::vector<std::string> SplitNul(const std::string& raw);
// CommitLimit from /proc/meminfo in bytes, or 0 if unknown.
uint64_t CommitLimitBytes();

}  // namespace vmreplay::recorder
