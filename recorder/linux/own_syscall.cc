#include "recorder/linux/own_syscall.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

// The linker defines these for a section whose name is a C identifier.
extern "C" const char __start_vmrecord_sys[] __attribute__((visibility("hidden")));
extern "C" const char __stop_vmrecord_sys[] __attribute__((visibility("hidden")));

namespace vmreplay::recorder::preload {
namespace {

#if defined(__x86_64__)
// The one `syscall` instruction, alone in its section.
__attribute__((section("vmrecord_sys"), noinline, used)) long RawSyscall(long nr, long a, long b,
                                                                         long c, long d, long e,
                                                                         long f) {
  long ret;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  register long r9 asm("r9") = f;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}
#endif

}  // namespace

long OwnSyscall(long nr, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
  const long r = RawSyscall(nr, a, b, c, d, e, f);
  if (static_cast<unsigned long>(r) > static_cast<unsigned long>(-4096L)) {
    errno = static_cast<int>(-r);
    return -1;
  }
  return r;
#else
  return syscall(nr, a, b, c, d, e, f);
#endif
}

CodeRange OwnSyscallRange() {
#if defined(__x86_64__)
  return {reinterpret_cast<uint64_t>(__start_vmrecord_sys),
          reinterpret_cast<uint64_t>(__stop_vmrecord_sys)};
#else
  return {};
#endif
}

size_t ReadWholeFile(const char* path, char* buffer, size_t size) {
  const long fd =
      OwnSyscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC, 0, 0, 0);
  if (fd < 0) return 0;
  size_t used = 0;
  while (used < size) {
    const long n = OwnSyscall(SYS_read, fd, reinterpret_cast<long>(buffer + used),
                              static_cast<long>(size - used), 0, 0, 0);
    if (n <= 0) break;
    used += static_cast<size_t>(n);
  }
  OwnSyscall(SYS_close, fd, 0, 0, 0, 0, 0);
  return used;
}

}  // namespace vmreplay::recorder::preload
