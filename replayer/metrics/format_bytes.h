// Byte counts for people: "512 B", "1.50 KiB", "197.77 MiB" (binary units, two decimals). The
// one formatter of every table, note and report.
#pragma once

#include <cstdint>
#include <string>

namespace vmreplay::replay {

std::string FormatBytes(uint64_t bytes);

}  // namespace vmreplay::replay
