// Win32 constants the simulator speaks, with the values of the Windows SDK (winnt.h, winerror.h).
//
// The simulator is built on Linux and never includes <windows.h>; these constants let every part of
// vmreplay (trace reader, engine, backends) use the exact Win32 values without that header. Values
// were checked against the Microsoft documentation of VirtualAlloc, VirtualFree, VirtualProtect,
// VirtualQuery, MEMORY_BASIC_INFORMATION and "Memory Protection Constants".
#ifndef VMREPLAY_SIMULATOR_WIN32_CONSTANTS_H_
#define VMREPLAY_SIMULATOR_WIN32_CONSTANTS_H_

#include <cstdint>

namespace vmreplay::win32 {

// flAllocationType / dwFreeType / MEMORY_BASIC_INFORMATION::State and ::Type.
inline constexpr uint32_t kMemCommit = 0x00001000;
inline constexpr uint32_t kMemReserve = 0x00002000;
inline constexpr uint32_t kMemDecommit = 0x00004000;
inline constexpr uint32_t kMemReplacePlaceholder = 0x00004000;  // VirtualAlloc2 only.
inline constexpr uint32_t kMemRelease = 0x00008000;
inline constexpr uint32_t kMemFree = 0x00010000;
inline constexpr uint32_t kMemPrivate = 0x00020000;
inline constexpr uint32_t kMemMapped = 0x00040000;
inline constexpr uint32_t kMemReset = 0x00080000;
inline constexpr uint32_t kMemTopDown = 0x00100000;
inline constexpr uint32_t kMemWriteWatch = 0x00200000;
inline constexpr uint32_t kMemPhysical = 0x00400000;
inline constexpr uint32_t kMemImage = 0x01000000;
inline constexpr uint32_t kMemResetUndo = 0x01000000;  // Same bit as kMemImage, other context.
inline constexpr uint32_t kMemLargePages = 0x20000000;
inline constexpr uint32_t kMemCoalescePlaceholders = 0x00000001;  // VirtualFree only.
inline constexpr uint32_t kMemPreservePlaceholder = 0x00000002;   // VirtualFree only.

// Memory protection constants. Exactly one of the first eight, optionally with one modifier.
inline constexpr uint32_t kPageNoAccess = 0x01;
inline constexpr uint32_t kPageReadOnly = 0x02;
inline constexpr uint32_t kPageReadWrite = 0x04;
inline constexpr uint32_t kPageWriteCopy = 0x08;
inline constexpr uint32_t kPageExecute = 0x10;
inline constexpr uint32_t kPageExecuteRead = 0x20;
inline constexpr uint32_t kPageExecuteReadWrite = 0x40;
inline constexpr uint32_t kPageExecuteWriteCopy = 0x80;
inline constexpr uint32_t kPageGuard = 0x100;
inline constexpr uint32_t kPageNoCache = 0x200;
inline constexpr uint32_t kPageWriteCombine = 0x400;

// GetLastError() values (winerror.h).
inline constexpr uint32_t kErrorSuccess = 0;
inline constexpr uint32_t kErrorInvalidFunction = 1;
inline constexpr uint32_t kErrorAccessDenied = 5;
inline constexpr uint32_t kErrorNotEnoughMemory = 8;
inline constexpr uint32_t kErrorOutOfMemory = 14;
inline constexpr uint32_t kErrorInvalidParameter = 87;
inline constexpr uint32_t kErrorInvalidAddress = 487;
inline constexpr uint32_t kErrorNoAccess = 998;
inline constexpr uint32_t kErrorInvalidFlags = 1004;
inline constexpr uint32_t kErrorNoSystemResources = 1450;
inline constexpr uint32_t kErrorCommitmentLimit = 1455;

// sizeof(MEMORY_BASIC_INFORMATION), what VirtualQuery returns on success.
inline constexpr uint64_t kMemoryBasicInformationSize64 = 48;
inline constexpr uint64_t kMemoryBasicInformationSize32 = 28;

}  // namespace vmreplay::win32

#endif  // VMREPLAY_SIMULATOR_WIN32_CONSTANTS_H_
