// Constants of the Linux calls the .NET runtime makes and of the host interfaces its calls are
// lifted to, beyond those the simulator already names (simulator/posix_constants.h,
// simulator/win32_constants.h).
#pragma once

#include <cstdint>

namespace vmreplay::lift {

// <sys/mman.h> (Linux UAPI asm-generic/mman-common.h).
inline constexpr int kMadvDontDump = 16;  // GC and PAL: reserved / decommitted memory
inline constexpr int kMadvDoDump = 17;    // GC and PAL: committed memory
inline constexpr int kMapStack = 0x20000;
// MADV_FREE | MADV_DONTDUMP passed as one advice value by some .NET 10 builds of
// GCToOSInterface::VirtualReset (gc/unix/gcenv.unix.cpp); the kernel refuses it with EINVAL and
// the GC falls back to posix_madvise, which glibc does not pass to the kernel for DONTNEED.
inline constexpr int kMadvFreeAndDontDump = 8 | 16;

// IHostMalloc / IHostMemoryManager (mscoree.h).
inline constexpr uint32_t kMallocThreadSafe = 1;
inline constexpr uint32_t kSOk = 0;
inline constexpr uint32_t kEOutOfMemory = 0x8007000E;
inline constexpr uint32_t kETaskCritical = 0;
// The id CreateMalloc returns for the one lifted heap.
inline constexpr uint64_t kLiftedHeapId = 1;

}  // namespace vmreplay::lift
