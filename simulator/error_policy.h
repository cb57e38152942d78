// Which Win32 error (GetLastError value) each failure of the simulated API reports.
//
// Kept in one table so differential testing against Windows or Wine can adjust one line. Each entry
// names the NTSTATUS the NT kernel returns (Windows Research Kernel, Wine ntdll/unix/virtual.c) and
// the Win32 error RtlNtStatusToDosError turns it into; where a Wine conformance test
// (dlls/kernel32/tests/virtual.c, which also passes on Windows) pins the value, it is noted.
#ifndef VMREPLAY_SIMULATOR_ERROR_POLICY_H_
#define VMREPLAY_SIMULATOR_ERROR_POLICY_H_

#include <cstdint>

#include "simulator/win32_constants.h"

namespace vmreplay::sim::errors {

// --- VirtualAlloc ---
// dwSize == 0 (STATUS_INVALID_PARAMETER; Wine test: ERROR_INVALID_PARAMETER on NT).
inline constexpr uint32_t kAllocZeroSize = win32::kErrorInvalidParameter;
// flAllocationType without COMMIT/RESERVE/RESET, unknown bits, or MEM_RESET mixed with others.
inline constexpr uint32_t kAllocBadType = win32::kErrorInvalidParameter;
// flProtect invalid (0, two base protections, bad modifiers, WRITECOPY on private memory):
// STATUS_INVALID_PAGE_PROTECTION; Wine test: ERROR_INVALID_PARAMETER.
inline constexpr uint32_t kBadProtection = win32::kErrorInvalidParameter;
// Explicit address below the lowest usable address or range beyond the highest one / wrapping.
inline constexpr uint32_t kAllocAddressOutOfRange = win32::kErrorInvalidParameter;
// MEM_RESERVE at an address overlapping an existing allocation (STATUS_CONFLICTING_ADDRESSES).
inline constexpr uint32_t kAllocConflictingAddresses = win32::kErrorInvalidAddress;
// MEM_COMMIT / MEM_RESET at an address whose range is not inside one reservation (free memory,
// or crossing its end). Wine test: MEM_RESET across the end -> ERROR_INVALID_ADDRESS.
inline constexpr uint32_t kAllocNotReserved = win32::kErrorInvalidAddress;
// NULL-address reservation larger than the whole user address space: NtAllocateVirtualMemory
// checks the size against the top of user space before looking for free space
// (STATUS_INVALID_PARAMETER_4 -> ERROR_INVALID_PARAMETER; confirmed against Wine by the
// differential test, edge cases #165/#166).
inline constexpr uint32_t kAllocSizeBeyondUserSpace = win32::kErrorInvalidParameter;
// NULL-address reservation: no free block large enough (STATUS_NO_MEMORY).
inline constexpr uint32_t kAllocNoAddressSpace = win32::kErrorNotEnoughMemory;
// Commit charge would exceed the commit limit (STATUS_COMMITMENT_LIMIT).
inline constexpr uint32_t kAllocCommitLimit = win32::kErrorCommitmentLimit;

// --- VirtualFree ---
// dwFreeType not exactly MEM_DECOMMIT or MEM_RELEASE (both, 0, MEM_FREE ...): Wine test.
inline constexpr uint32_t kFreeBadType = win32::kErrorInvalidParameter;
// MEM_RELEASE with dwSize != 0: Wine test ("if the type is MEM_RELEASE, size must be 0").
inline constexpr uint32_t kFreeReleaseNonZeroSize = win32::kErrorInvalidParameter;
// lpAddress NULL or beyond the user address space.
inline constexpr uint32_t kFreeBadAddress = win32::kErrorInvalidParameter;
// lpAddress not inside any allocation (STATUS_MEMORY_NOT_ALLOCATED).
inline constexpr uint32_t kFreeNotAllocated = win32::kErrorInvalidAddress;
// dwSize == 0 but lpAddress's page is not the allocation base (STATUS_FREE_VM_NOT_AT_BASE).
inline constexpr uint32_t kFreeNotAtBase = win32::kErrorInvalidAddress;
// Range extends past the end of the reservation (STATUS_UNABLE_TO_FREE_VM).
inline constexpr uint32_t kFreeBeyondReservation = win32::kErrorInvalidParameter;

// --- VirtualProtect ---
// Some page of the range is reserved but not committed (STATUS_NOT_COMMITTED); Wine test.
inline constexpr uint32_t kProtectNotCommitted = win32::kErrorInvalidAddress;
// Range starts in free memory or spans two allocations. Windows: STATUS_CONFLICTING_ADDRESSES /
// STATUS_NOT_COMMITTED -> ERROR_INVALID_ADDRESS. (Wine returns STATUS_INVALID_PARAMETER -> 87.)
inline constexpr uint32_t kProtectNotAllocated = win32::kErrorInvalidAddress;
// lpflOldProtect == NULL (STATUS_ACCESS_VIOLATION -> ERROR_NOACCESS).
inline constexpr uint32_t kProtectNullOldProtect = win32::kErrorNoAccess;

// --- VirtualQuery ---
// lpAddress at or above the end of the user address space (STATUS_INVALID_PARAMETER).
inline constexpr uint32_t kQueryBeyondLimit = win32::kErrorInvalidParameter;
// lpBuffer == NULL.
inline constexpr uint32_t kQueryNullBuffer = win32::kErrorNoAccess;

}  // namespace vmreplay::sim::errors

#endif  // VMREPLAY_SIMULATOR_ERROR_POLICY_H_
