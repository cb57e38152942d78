#include "replayer/metrics/format_bytes.h"

#include <cstdio>

namespace vmreplay::replay {

std::string FormatBytes(uint64_t v) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double d = static_cast<double>(v);
  int u = 0;
  while (d >= 1024 && u < 6) {
    d /= 1024;
    ++u;
  }
  char buf[64];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f %s", d, units[u]);
  }
  return buf;
}

}  // namespace vmreplay::replay
