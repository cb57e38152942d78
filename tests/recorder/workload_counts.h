// The numbers workload.cc promises and the end-to-end tests check.
#pragma once

#include <cstddef>

namespace vmreplay::recorder::workload {

inline constexpr size_t kThreads = 4;
inline constexpr int kVmRounds = 25;
inline constexpr int kHeapRounds = 200;
inline constexpr int kForkChildMmaps = 7;
inline constexpr int kForkChildMallocs = 5;
inline constexpr int kExecChildMmaps = 3;
inline constexpr int kExitCode = 42;

// Heap sizes no runtime asks for, so the tests can pick the workload's own calls out.
inline constexpr size_t kMarkerBase = 700001;  // malloc sizes kMarkerBase .. +kThreads*kHeapRounds
inline constexpr size_t kMarkerCallocSize = 690001;
inline constexpr size_t kMarkerReallocSize = 680001;
inline constexpr size_t kMarkerAlignedSize = 670001;
inline constexpr size_t kWindowBeginSize = 660001;
inline constexpr size_t kWindowEndSize = 660003;
// `workload reuse-race`: the mapping size (3 pages, used by nothing else) and round count.
inline constexpr size_t kReuseRaceBytes = 3 * 4096;
inline constexpr int kReuseRaceRounds = 20000;

// Per thread: mmap, mprotect, madvise, munmap kVmRounds times, then mmap + mremap + munmap.
inline constexpr int kRootMmaps = static_cast<int>(kThreads) * (kVmRounds + 1);
inline constexpr int kRootMunmaps = kRootMmaps;
inline constexpr int kRootMprotects = static_cast<int>(kThreads) * kVmRounds;
inline constexpr int kRootMadvises = static_cast<int>(kThreads) * kVmRounds;
inline constexpr int kRootMremaps = static_cast<int>(kThreads);

}  // namespace vmreplay::recorder::workload
