// Validation of Win32 page-protection values and the mapping of POSIX PROT_* bits onto them.
#ifndef VMREPLAY_SIMULATOR_PROTECTION_H_
#define VMREPLAY_SIMULATOR_PROTECTION_H_

#include <cstdint>

namespace vmreplay::sim {

// True when `protect` is acceptable to VirtualAlloc / VirtualProtect on private memory: exactly
// one base protection (PAGE_NOACCESS .. PAGE_EXECUTE_READWRITE) plus at most one of PAGE_GUARD,
// PAGE_NOCACHE, PAGE_WRITECOMBINE, no modifier with PAGE_NOACCESS, no other bits. PAGE_WRITECOPY
// and PAGE_EXECUTE_WRITECOPY are refused: the documentation of the memory protection constants says
// VirtualAlloc does not support them, and private memory cannot be copy-on-write.
bool IsValidPrivateProtection(uint32_t protect);

// Win32 protection equivalent to POSIX `prot` (PROT_READ/WRITE/EXEC bits; PROT_NONE ->
// PAGE_NOACCESS). Write implies read, as on x86 page tables.
uint32_t ProtectionFromPosix(int prot);

}  // namespace vmreplay::sim

#endif  // VMREPLAY_SIMULATOR_PROTECTION_H_
