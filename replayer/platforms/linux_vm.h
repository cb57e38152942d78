// Linux helpers of the os platform: Win32 -> PROT_* conversion, counted system calls, the RSS
// high-water mark, and which parts of a range the platform itself mapped (so a real call never
// touches memory the replay does not own).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "simulator/address_space.h"

namespace vmreplay::replay {

// PROT_* for a Win32 page protection (modifiers ignored; PAGE_NOACCESS -> PROT_NONE).
int ProtFromWin32(uint32_t protect);

// Counts system calls per kind ("mmap", "mprotect", ...).
class SyscallCounter {
 public:
  void Add(const char* kind) { ++counts_[kind]; }
  const std::map<std::string, uint64_t>& counts() const { return counts_; }

 private:
  std::map<std::string, uint64_t> counts_;
};

// Resets the process's RSS high-water mark (Linux >= 4.0, /proc/self/clear_refs "5"), so a
// backend's figure is not the previous backend's. Best effort.
void ResetRssHighWater();
// VmHWM of /proc/self/status in bytes, or getrusage's ru_maxrss when /proc is unavailable.
std::optional<uint64_t> RssHighWater();

// Sub-ranges of [start, end) that are allocated (reserved, committed or mapped) in `space`.
std::vector<std::pair<uint64_t, uint64_t>> AllocatedSubranges(const sim::AddressSpace& space,
                                                              uint64_t start, uint64_t end);
// True when every page of [start, end) is allocated in `space`.
bool FullyAllocated(const sim::AddressSpace& space, uint64_t start, uint64_t end);

}  // namespace vmreplay::replay
