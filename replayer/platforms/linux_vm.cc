#include "replayer/platforms/linux_vm.h"

#include <sys/mman.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>

#include "simulator/win32_constants.h"

namespace vmreplay::replay {

int ProtFromWin32(uint32_t protect) {
  switch (protect & 0xff) {
    case win32::kPageReadOnly:
      return PROT_READ;
    case win32::kPageReadWrite:
    case win32::kPageWriteCopy:
      return PROT_READ | PROT_WRITE;
    case win32::kPageExecute:
      return PROT_EXEC;
    case win32::kPageExecuteRead:
      return PROT_READ | PROT_EXEC;
    case win32::kPageExecuteReadWrite:
    case win32::kPageExecuteWriteCopy:
      return PROT_READ | PROT_WRITE | PROT_EXEC;
    default:
      return PROT_NONE;
  }
}

void ResetRssHighWater() {
  if (std::FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);
    std::fclose(f);
  }
}

std::optional<uint64_t> RssHighWater() {
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    std::optional<uint64_t> out;
    while (std::fgets(line, sizeof line, f)) {
      unsigned long long kib = 0;
      if (std::sscanf(line, "VmHWM: %llu kB", &kib) == 1) out = kib * 1024;
    }
    std::fclose(f);
    if (out) return out;
  }
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) == 0) return static_cast<uint64_t>(u.ru_maxrss) * 1024;
  return std::nullopt;
}

std::vector<std::pair<uint64_t, uint64_t>> AllocatedSubranges(const sim::AddressSpace& space,
                                                              uint64_t start, uint64_t end) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  const sim::RegionMap& regions = space.regions();
  auto it = regions.Find(start);
  if (it == regions.end()) it = regions.UpperBound(start);
  for (; it != regions.end() && it->first < end; ++it) {
    const uint64_t s = it->first < start ? start : it->first;
    const uint64_t e = it->second.end < end ? it->second.end : end;
    if (s >= e) continue;
    if (!out.empty() && out.back().second == s) {
      out.back().second = e;
    } else {
      out.emplace_back(s, e);
    }
  }
  return out;
}

bool FullyAllocated(const sim::AddressSpace& space, uint64_t start, uint64_t end) {
  const auto parts = AllocatedSubranges(space, start, end);
  return parts.size() == 1 && parts[0].first == start && parts[0].second == end;
}

}  // namespace vmreplay::replay
