#include "simulator/protection.h"

#include "simulator/posix_constants.h"
#include "simulator/win32_constants.h"

namespace vmreplay::sim {

bool IsValidPrivateProtection(uint32_t protect) {
  const uint32_t base = protect & 0xFF;
  const uint32_t modifiers = protect & ~0xFFu;
  switch (base) {
    case win32::kPageNoAccess:
    case win32::kPageReadOnly:
    case win32::kPageReadWrite:
    case win32::kPageExecute:
    case win32::kPageExecuteRead:
    case win32::kPageExecuteReadWrite:
      break;
    default:
      return false;  // 0, two base bits, or a copy-on-write protection.
  }
  switch (modifiers) {
    case 0:
      return true;
    case win32::kPageGuard:
    case win32::kPageNoCache:
    case win32::kPageWriteCombine:
      return base != win32::kPageNoAccess;
    default:
      return false;
  }
}

uint32_t ProtectionFromPosix(int prot) {
  const bool read = (prot & linux_abi::kProtRead) != 0;
  const bool write = (prot & linux_abi::kProtWrite) != 0;
  const bool exec = (prot & linux_abi::kProtExec) != 0;
  if (exec) {
    if (write) return win32::kPageExecuteReadWrite;
    return read ? win32::kPageExecuteRead : win32::kPageExecute;
  }
  if (write) return win32::kPageReadWrite;
  return read ? win32::kPageReadOnly : win32::kPageNoAccess;
}

}  // namespace vmreplay::sim
