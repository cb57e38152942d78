// Linux mmap-family constants with their Linux (x86-64 / generic) ABI values.
//
// Traces carry the values the recorded Linux process passed, so the simulator interprets them with
// the Linux values whatever the host is. On Linux hosts the values are checked against
// <sys/mman.h>.
#ifndef VMREPLAY_SIMULATOR_POSIX_CONSTANTS_H_
#define VMREPLAY_SIMULATOR_POSIX_CONSTANTS_H_

#include <cstdint>

namespace vmreplay::linux_abi {

inline constexpr int kProtNone = 0x0;
inline constexpr int kProtRead = 0x1;
inline constexpr int kProtWrite = 0x2;
inline constexpr int kProtExec = 0x4;
inline constexpr int kProtGrowsDown = 0x01000000;
inline constexpr int kProtGrowsUp = 0x02000000;

inline constexpr int kMapShared = 0x01;
inline constexpr int kMapPrivate = 0x02;
inline constexpr int kMapSharedValidate = 0x03;
inline constexpr int kMapTypeMask = 0x0f;
inline constexpr int kMapFixed = 0x10;
inline constexpr int kMapAnonymous = 0x20;
inline constexpr int kMapNoReserve = 0x4000;
inline constexpr int kMapFixedNoReplace = 0x100000;

inline constexpr int kMadvNormal = 0;
inline constexpr int kMadvRandom = 1;
inline constexpr int kMadvSequential = 2;
inline constexpr int kMadvWillNeed = 3;
inline constexpr int kMadvDontNeed = 4;
inline constexpr int kMadvFree = 8;
inline constexpr int kMadvRemove = 9;
inline constexpr int kMadvPopulateWrite = 23;  // Highest "ordinary" advice value as of Linux 6.x.
inline constexpr int kMadvHwPoison = 100;
inline constexpr int kMadvSoftOffline = 101;

inline constexpr int kMremapMayMove = 1;
inline constexpr int kMremapFixed = 2;
inline constexpr int kMremapDontUnmap = 4;

// errno values.
inline constexpr int kEperm = 1;
inline constexpr int kEnomem = 12;
inline constexpr int kEfault = 14;
inline constexpr int kEexist = 17;
inline constexpr int kEinval = 22;

}  // namespace vmreplay::linux_abi

#endif  // VMREPLAY_SIMULATOR_POSIX_CONSTANTS_H_
