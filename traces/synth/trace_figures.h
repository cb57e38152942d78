// The figures a synthetic profile is fitted by, measured on any trace of IHostMemoryManager /
// IHostMalloc calls (a `vmreplay synth` trace, or a real recording lifted by `vmreplay lift
// --clr`), so a profile can be set beside the real process it stands for.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/status.h"

namespace vmreplay::synth {

// X(name, definition). Sizes in bytes; rates per second of activity: the 100 ms windows of the
// trace that hold a call (a recording's idle waits, such as the oracle's, do not dilute them).
#define VMREPLAY_TRACE_FIGURES(X)                                                        \
  X(reserves_per_s, "VirtualAlloc(MEM_RESERVE...) calls per second")                     \
  X(reserve_p50, "median reservation size")                                              \
  X(reserve_max, "largest reservation")                                                  \
  X(commits_per_s, "VirtualAlloc(MEM_COMMIT) calls per second")                          \
  X(commit_p50, "median commit size")                                                    \
  X(commit_p90, "90th percentile commit size")                                           \
  X(commit_mib_per_s, "MiB committed per second")                                        \
  X(decommits_per_commit, "VirtualFree(MEM_DECOMMIT) calls per commit")                  \
  X(decommit_p50, "median decommit size")                                                \
  X(decommitted_share, "bytes decommitted / bytes committed")                            \
  X(vm_calls_per_s, "virtual-memory calls (VirtualAlloc/Free/Protect/Query) per second") \
  X(heap_calls_per_s, "HostAlloc/HostDebugAlloc/HostFree calls per second")              \
  X(vm_share, "virtual-memory calls / (virtual-memory + heap calls)")                    \
  X(alloc_p50, "median HostAlloc size")                                                  \
  X(alloc_p90, "90th percentile HostAlloc size")

enum class Figure : uint8_t {
#define VMREPLAY_FIGURE_ENUM(name, definition) k_##name,
  VMREPLAY_TRACE_FIGURES(VMREPLAY_FIGURE_ENUM)
#undef VMREPLAY_FIGURE_ENUM
      kCount
};
inline constexpr size_t kFigureCount = static_cast<size_t>(Figure::kCount);

struct FigureInfo {
  std::string_view name;
  std::string_view definition;
};
inline constexpr std::array<FigureInfo, kFigureCount> kFigureInfo = {{
#define VMREPLAY_FIGURE_INFO(name, definition) {#name, definition},
    VMREPLAY_TRACE_FIGURES(VMREPLAY_FIGURE_INFO)
#undef VMREPLAY_FIGURE_INFO
}};

using TraceFigures = std::array<double, kFigureCount>;

Status MeasureTrace(const std::string& path, TraceFigures* out);

// How far a synthetic figure is from the real one: |log2(synthetic / real)| (0 = equal, 1 = a
// factor of two). Both zero: 0; one of them zero: infinity.
double FigureDistance(double real, double synthetic);

// A table: one row per figure, one column per trace; with `real` >= 0, a distance column for
// every other trace against column `real`.
std::string FormatFigureTable(const std::vector<std::string>& names,
                              const std::vector<TraceFigures>& figures, int real);

}  // namespace vmreplay::synth
