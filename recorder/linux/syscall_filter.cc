#include "recorder/linux/syscall_filter.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "recorder/linux/own_syscall.h"
#include "recorder/linux/wire_protocol.h"

extern char** environ;

namespace vmreplay::recorder::preload {
namespace {

bool TracerAttached() {
  if (environ == nullptr) return false;
  const size_t len = strlen(kTracerEnvVar);
  for (char** e = environ; *e != nullptr; ++e) {
    if (strncmp(*e, kTracerEnvVar, len) == 0 && (*e)[len] == '=' && (*e)[len + 1] == '1') {
      return true;
    }
  }
  return false;
}

#if defined(__x86_64__)
constexpr uint32_t kTrace = SECCOMP_RET_TRACE;
constexpr uint32_t Lo(uint64_t v) { return static_cast<uint32_t>(v); }
constexpr uint32_t Hi(uint64_t v) { return static_cast<uint32_t>(v >> 32); }

bool InstallFilter() {
  const CodeRange own = OwnSyscallRange();
  // Within one 4 GiB-aligned block, so that one high-word compare covers the range.
  const bool own_known = own.end > own.begin && Hi(own.begin) == Hi(own.end - 1);
  constexpr uint32_t kNr = offsetof(seccomp_data, nr);
  constexpr uint32_t kArch = offsetof(seccomp_data, arch);
  constexpr uint32_t kIpLo = offsetof(seccomp_data, instruction_pointer);
  constexpr uint32_t kIpHi = kIpLo + 4;
  constexpr uint32_t kArg0Lo = offsetof(seccomp_data, args);
  constexpr uint32_t kArg0Hi = kArg0Lo + 4;
  // Jump offsets count instructions after the jump itself.
  sock_filter program[] = {
      /* 0*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArch),
      /* 1*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      /* 2*/ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* 3*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNr),
      /* 4*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 16, 0),  // -> 21
      /* 5*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 5, 0),    // -> 11
      /* 6*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munmap, 4, 0),
      /* 7*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mremap, 3, 0),
      /* 8*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 2, 0),
      /* 9*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_madvise, 1, 0),
      /*10*/ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      // An mmap-family call: the preload's own are allowed, the rest traced.
      /*11*/ BPF_JUMP(BPF_JMP | BPF_JA, own_known ? 0u : 7u, 0, 0),  // unknown: -> 19
      /*12*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpHi),
      /*13*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, Hi(own.begin), 0, 5),  // -> 19
      /*14*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpLo),
      /*15*/ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, Lo(own.begin), 0, 3),  // -> 19
      /*16*/ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, Lo(own.end), 2, 0),    // -> 19
      /*17*/ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /*18*/ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /*19*/ BPF_STMT(BPF_RET | BPF_K, kTrace | kFilterDataCall),
      /*20*/ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      // prctl: the announcement is traced, every other prctl allowed.
      /*21*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg0Lo),
      /*22*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, Lo(kAnnounceOption), 0, 3),  // -> 26
      /*23*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg0Hi),
      /*24*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),  // -> 26
      /*25*/ BPF_STMT(BPF_RET | BPF_K, kTrace | kFilterDataAnnounce),
      /*26*/ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog = {static_cast<unsigned short>(sizeof program / sizeof program[0]), program};
  // Every thread, so that none escapes (usually there is only one yet).
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  if (r != 0 && errno == EACCES) {
    // Without CAP_SYS_ADMIN the kernel wants no_new_privs: set-user-ID programs this process
    // execs then run without their privileges (vmrecord's README says so).
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
    r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  }
  return r == 0;
}
#endif

}  // namespace

namespace {

// True when the tracer answered, i.e. a filter of ours traced the announcement.
bool Announce(uint32_t instance, const int* guard) {
#if defined(__x86_64__)
  const CodeRange own = OwnSyscallRange();
  const long guard_offset =
      reinterpret_cast<long>(guard) - reinterpret_cast<long>(__builtin_thread_pointer());
  const int saved = errno;
  const long r = OwnSyscall(SYS_prctl, static_cast<long>(kAnnounceOption), instance, guard_offset,
                            static_cast<long>(own.begin), static_cast<long>(own.end), 0);
  errno = saved;
  return static_cast<uint64_t>(r) == kAnnounceAck;
#else
  (void)instance;
  (void)guard;
  return false;
#endif
}

// Whether this process's tracer is the session's (/proc/self/status TracerPid names the
// tracing thread): a filter without that tracer would fail the traced calls with ENOSYS.
bool TracedByCollector(uint32_t tracer_tid) {
  char buffer[4096];
  const size_t n = ReadWholeFile("/proc/self/status", buffer, sizeof buffer - 1);
  if (n == 0) return false;
  buffer[n] = '\0';
  const char* at = strstr(buffer, "TracerPid:");
  if (at == nullptr) return false;
  at += 10;
  while (*at == ' ' || *at == '\t') ++at;
  uint32_t pid = 0;
  while (*at >= '0' && *at <= '9') pid = pid * 10 + static_cast<uint32_t>(*at++ - '0');
  return pid == tracer_tid;
}

}  // namespace

void AnnounceImage(uint32_t instance, const int* guard) {
  if (TracerAttached()) Announce(instance, guard);
}

void StartSyscallTracing(uint32_t instance, const int* guard, uint32_t tracer_tid) {
#if defined(__x86_64__)
  if (!TracerAttached()) return;
  // An earlier image of this process (before an exec) installed our filter already: the tracer
  // answers. Otherwise (the first image, or a process under someone else's seccomp policy, as
  // in a container) install ours and announce again.
  if (Announce(instance, guard)) return;
  if (!TracedByCollector(tracer_tid)) return;
  const int saved = errno;
  const bool installed = InstallFilter();
  errno = saved;
  if (installed) Announce(instance, guard);
#else
  (void)instance;
  (void)guard;
  (void)tracer_tid;
#endif
}

}  // namespace vmreplay::recorder::preload
