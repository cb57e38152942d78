// The interposed functions of libvmrecord_preload.so.
//
// Every hook follows the same contract:
//  - From the very first call in the process, before libc has finished starting, it forwards
//    to the real function. The real allocator is found with dlsym(RTLD_NEXT), which itself
//    calls calloc: while that resolution runs, allocations come from BootstrapAllocator and
//    are never handed to the real free. The mmap family needs no resolution at all: it issues
//    the system call directly.
//  - A thread-local re-entry guard (initial-exec TLS, so reading it never allocates) makes
//    every call made while a hook is already active on this thread invisible: the recorder's
//    own calls (Boost.Interprocess mapping the ring, dlsym) and calls the real allocator makes
//    internally are forwarded, never recorded (heaptrack's recursion guard).
//  - A recorded call takes no lock and allocates nothing: it times the real call and writes one
//    record of a few words into its thread's own ring (recording_session.h). errno is
//    preserved as the real call left it.
//
// Calls glibc makes internally (malloc's own mmap/munmap/madvise, thread stacks, ld.so mapping
// libraries) do not go through the dynamic symbol table and so never reach these hooks: the
// trace holds the memory-manager traffic of the program and its libraries, with the heap
// recorded at the malloc level (replaying it through a heap backend recreates the heap's own
// system calls). recorder/linux/README.md explains how the tests account for the difference.
#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstring>

#include "recorder/linux/bootstrap_allocator.h"
#include "recorder/linux/own_syscall.h"
#include "recorder/linux/recording_session.h"
#include "recorder/linux/wire_protocol.h"

// The library is compiled with -fvisibility=hidden: its dynamic symbol table holds only what
// is marked VMRECORD_EXPORT, i.e. the interposed functions and the two syscall entry points
// strace -k names. Everything else (the ring, the session, Boost's inline code) stays internal,
// so it can neither interpose on nor be interposed by the recorded program's own symbols.
#define VMRECORD_EXPORT __attribute__((visibility("default")))

namespace vmreplay::recorder::preload {
namespace {

struct RealAllocator {
  void* (*malloc)(size_t);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  void (*free)(void*);
  int (*posix_memalign)(void**, size_t, size_t);
  void* (*aligned_alloc)(size_t, size_t);
  void* (*memalign)(size_t, size_t);
  void* (*valloc)(size_t);
  void* (*pvalloc)(size_t);
};

RealAllocator g_real;
enum ResolveState : int { kUnresolved, kResolving, kResolved };
std::atomic<int> g_resolve_state{kUnresolved};

inline bool RealReady() {
  return __builtin_expect(g_resolve_state.load(std::memory_order_acquire) == kResolved, 1);
}

template <typename T>
void Resolve(T* fn, const char* name) {
  *fn = reinterpret_cast<T>(dlsym(RTLD_NEXT, name));
}

// Returns true once the real allocator is known. Returns false while a resolution is in
// progress (on this thread: dlsym is calling back into us; on another: it is nearly done);
// the caller then serves the request from the bootstrap buffer.
bool ResolveReal() {
  if (RealReady()) return true;
  int state = kUnresolved;
  if (!g_resolve_state.compare_exchange_strong(state, kResolving, std::memory_order_acq_rel)) {
    return state == kResolved;
  }
  Resolve(&g_real.malloc, "malloc");
  Resolve(&g_real.calloc, "calloc");
  Resolve(&g_real.realloc, "realloc");
  Resolve(&g_real.free, "free");
  Resolve(&g_real.posix_memalign, "posix_memalign");
  Resolve(&g_real.aligned_alloc, "aligned_alloc");
  Resolve(&g_real.memalign, "memalign");
  Resolve(&g_real.valloc, "valloc");
  Resolve(&g_real.pvalloc, "pvalloc");
  g_resolve_state.store(kResolved, std::memory_order_release);
  return true;
}

// Waits for a resolution another thread is running (free and realloc must reach the real
// allocator: a pointer not from the bootstrap buffer belongs to it).
void WaitForReal() {
  while (!ResolveReal()) {
    if (g_resolve_state.load(std::memory_order_acquire) == kResolving) sched_yield();
  }
}

// Enter() == true: this call is recorded and the guard is held until Leave().
inline bool Enter() {
  if (t_guard != 0) return false;
  ++t_guard;
  if (!EnsureSession()) {
    --t_guard;
    return false;
  }
  return true;
}
inline void Leave() { --t_guard; }

// errno across a recorded call: as the call left it if the call failed, else as it was before
// (recording may touch errno while it waits for ring space).
class ErrnoKeeper {
 public:
  ErrnoKeeper() : saved_(errno) {}
  // Right after the call: the error to record (0 unless `failed`).
  uint32_t CallError(bool failed) {
    call_errno_ = errno;
    failed_ = failed;
    return failed ? static_cast<uint32_t>(call_errno_) : 0;
  }
  ~ErrnoKeeper() { errno = failed_ ? call_errno_ : saved_; }

 private:
  int saved_;
  int call_errno_ = 0;
  bool failed_ = false;
};

inline uint64_t U(const void* p) { return reinterpret_cast<uint64_t>(p); }

}  // namespace
}  // namespace vmreplay::recorder::preload

using vmreplay::recorder::BootstrapAllocator;
using namespace vmreplay::recorder;           // NOLINT: WireOp constants
using namespace vmreplay::recorder::preload;  // NOLINT: hook helpers

// The system calls of the mmap family, issued directly (no dlsym needed, usable before libc
// is initialised). Two named, never-inlined entry points so that `strace -k` can tell the
// calls this library recorded from the ones it forwarded unrecorded (the recorder's own).
extern "C" __attribute__((noinline)) VMRECORD_EXPORT long vmrecord_traced_syscall(long nr, long a,
                                                                                  long b, long c,
                                                                                  long d, long e,
                                                                                  long f) {
  long r = OwnSyscall(nr, a, b, c, d, e, f);
  asm volatile("" : "+r"(r));  // keep this frame: no tail call
  return r;
}
extern "C" __attribute__((noinline)) VMRECORD_EXPORT long vmrecord_untraced_syscall(long nr, long a,
                                                                                    long b, long c,
                                                                                    long d, long e,
                                                                                    long f) {
  long r = OwnSyscall(nr, a, b, c, d, e, f);
  asm volatile("" : "+r"(r));
  return r;
}

namespace {

inline long L(const void* p) { return reinterpret_cast<long>(p); }
inline long L(uint64_t v) { return static_cast<long>(v); }
inline void* P(long r) { return reinterpret_cast<void*>(r); }

// A system call of the mmap family that takes effect by returning: recorded after it returns,
// with the payload words `payload(result)`. Returns the raw result (-1 and errno set on
// failure, as syscall(2) does).
template <typename Payload>
long RecordedVmCall(uint8_t op, long nr, long a, long b, long c, long d, long e, long f,
                    Payload&& payload) {
  if (!Enter()) return vmrecord_untraced_syscall(nr, a, b, c, d, e, f);
  long r;
  {
    ErrnoKeeper keep;
    const uint64_t entry = EntryNow();
    r = vmrecord_traced_syscall(nr, a, b, c, d, e, f);
    EmitAfterCall(op, entry, keep.CallError(r == -1), payload(r));
  }
  Leave();
  return r;
}

// An allocation of the malloc family (everything but free, realloc, posix_memalign): recorded
// after it returns, failed when it returns NULL.
template <typename Call, typename... Args>
void* RecordedAlloc(uint8_t op, Call&& call, Args... args) {
  void* p;
  {
    ErrnoKeeper keep;
    const uint64_t entry = EntryNow();
    p = call();
    EmitAfterCall(op, entry, keep.CallError(p == nullptr), Words(args..., U(p)));
  }
  Leave();
  return p;
}

}  // namespace

extern "C" {

// ---- Virtual memory -------------------------------------------------------------------------

VMRECORD_EXPORT void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
  return P(RecordedVmCall(
      kWireMmap, SYS_mmap, L(addr), L(length), prot, flags, fd, offset, [&](long result) {
        return Words(U(addr), length,
                     static_cast<uint32_t>(prot) | uint64_t{static_cast<uint32_t>(flags)} << 32, fd,
                     offset, result);
      }));
}

VMRECORD_EXPORT void* mmap64(void* addr, size_t length, int prot, int flags, int fd, off64_t offset)
    __attribute__((alias("mmap")));

// A release: its record takes its place before the call (ReleaseRecord).
VMRECORD_EXPORT int munmap(void* addr, size_t length) {
  if (!Enter()) {
    return static_cast<int>(vmrecord_untraced_syscall(SYS_munmap, L(addr), L(length), 0, 0, 0, 0));
  }
  long r;
  {
    ErrnoKeeper keep;
    ReleaseRecord record(2);
    r = vmrecord_traced_syscall(SYS_munmap, L(addr), L(length), 0, 0, 0, 0);
    record.Finish(kWireMunmap, keep.CallError(r == -1), Words(U(addr), length));
  }
  Leave();
  return static_cast<int>(r);
}

VMRECORD_EXPORT void* mremap(void* old_address, size_t old_size, size_t new_size, int flags, ...) {
  void* new_address = nullptr;
  if (flags & MREMAP_FIXED) {  // as glibc: the fifth argument exists only with MREMAP_FIXED
    va_list ap;
    va_start(ap, flags);
    new_address = va_arg(ap, void*);
    va_end(ap);
  }
  return P(RecordedVmCall(kWireMremap, SYS_mremap, L(old_address), L(old_size), L(new_size), flags,
                          L(new_address), 0, [&](long result) {
                            return Words(U(old_address), old_size, new_size,
                                         static_cast<uint32_t>(flags), U(new_address), result);
                          }));
}

VMRECORD_EXPORT int mprotect(void* addr, size_t length, int prot) {
  return static_cast<int>(
      RecordedVmCall(kWireMprotect, SYS_mprotect, L(addr), L(length), prot, 0, 0, 0,
                     [&](long) { return Words(U(addr), length, static_cast<uint32_t>(prot)); }));
}

VMRECORD_EXPORT int madvise(void* addr, size_t length, int advice) {
  return static_cast<int>(
      RecordedVmCall(kWireMadvise, SYS_madvise, L(addr), L(length), advice, 0, 0, 0,
                     [&](long) { return Words(U(addr), length, static_cast<uint32_t>(advice)); }));
}

// ---- Heap -----------------------------------------------------------------------------------

VMRECORD_EXPORT void* malloc(size_t size) {
  if (!RealReady() && !ResolveReal()) return BootstrapAllocator::Allocate(size);
  if (!Enter()) return g_real.malloc(size);
  return RecordedAlloc(
      kWireMalloc, [&] { return g_real.malloc(size); }, size);
}

VMRECORD_EXPORT void* calloc(size_t count, size_t size) {
  if (!RealReady() && !ResolveReal()) {
    if (size != 0 && count > SIZE_MAX / size) return nullptr;
    return BootstrapAllocator::Allocate(count * size);  // bootstrap memory is zeroed
  }
  if (!Enter()) return g_real.calloc(count, size);
  return RecordedAlloc(
      kWireCalloc, [&] { return g_real.calloc(count, size); }, count, size);
}

// A release: its record takes its place before the call (ReleaseRecord).
VMRECORD_EXPORT void free(void* p) {
  if (p == nullptr) {
    // Still a call the program made: record it like any other (replay treats it as a no-op).
  } else if (BootstrapAllocator::Owns(p)) {
    return;  // the recorder's own bootstrap allocation: never reaches the real allocator
  }
  if (!RealReady()) {
    if (p == nullptr) return;
    WaitForReal();
  }
  if (!Enter()) return g_real.free(p);
  {
    ErrnoKeeper keep;
    ReleaseRecord record(1);
    g_real.free(p);
    record.Finish(kWireFree, keep.CallError(false), Words(U(p)));
  }
  Leave();
}

VMRECORD_EXPORT void* realloc(void* p, size_t size) {
  if (p != nullptr && BootstrapAllocator::Owns(p)) {
    // A block from the bootstrap buffer: move it to wherever new blocks come from now. Not
    // recorded: its allocation was the recorder's own.
    void* moved = RealReady() ? g_real.malloc(size) : BootstrapAllocator::Allocate(size);
    if (moved != nullptr) {
      const size_t old = BootstrapAllocator::SizeOf(p);
      memcpy(moved, p, old < size ? old : size);
    }
    return moved;
  }
  if (!RealReady()) {
    if (p == nullptr && !ResolveReal()) return BootstrapAllocator::Allocate(size);
    WaitForReal();
  }
  if (!Enter()) return g_real.realloc(p, size);
  void* q;
  {
    ErrnoKeeper keep;
    const uint64_t entry = EntryNow();
    q = g_real.realloc(p, size);
    // realloc(p, 0) frees p and returns NULL: not a failure.
    EmitAfterCall(kWireRealloc, entry, keep.CallError(q == nullptr && size != 0),
                  Words(U(p), size, U(q)));
  }
  Leave();
  return q;
}

VMRECORD_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) {
  if (!RealReady() && !ResolveReal()) {
    *out = BootstrapAllocator::Allocate(size, alignment);
    return *out != nullptr ? 0 : ENOMEM;
  }
  if (!Enter()) return g_real.posix_memalign(out, alignment, size);
  int rc;
  {
    ErrnoKeeper keep;  // posix_memalign reports through its return value, not errno
    const uint64_t entry = EntryNow();
    rc = g_real.posix_memalign(out, alignment, size);
    keep.CallError(false);
    EmitAfterCall(kWirePosixMemalign, entry, static_cast<uint32_t>(rc),
                  Words(alignment, size, rc == 0 ? U(*out) : 0));
  }
  Leave();
  return rc;
}

}  // extern "C"

namespace {
// aligned_alloc, memalign, valloc and pvalloc share one shape: (alignment?, size) -> pointer.
template <typename Real>
void* AlignedCall(uint8_t op, size_t alignment, size_t size, Real&& real) {
  if (!RealReady() && !ResolveReal()) {
    return BootstrapAllocator::Allocate(size, alignment != 0 ? alignment : 4096);
  }
  if (!Enter()) return real();
  if (op == kWireValloc || op == kWirePvalloc) return RecordedAlloc(op, real, size);
  return RecordedAlloc(op, real, alignment, size);
}
}  // namespace

extern "C" {

VMRECORD_EXPORT void* aligned_alloc(size_t alignment, size_t size) {
  return AlignedCall(kWireAlignedAlloc, alignment, size,
                     [&] { return g_real.aligned_alloc(alignment, size); });
}

VMRECORD_EXPORT void* memalign(size_t alignment, size_t size) {
  return AlignedCall(kWireMemalign, alignment, size,
                     [&] { return g_real.memalign(alignment, size); });
}

VMRECORD_EXPORT void* valloc(size_t size) {
  return AlignedCall(kWireValloc, 0, size, [&] { return g_real.valloc(size); });
}

VMRECORD_EXPORT void* pvalloc(size_t size) {
  return AlignedCall(kWirePvalloc, 0, size, [&] { return g_real.pvalloc(size); });
}

}  // extern "C"

// Attach as early as possible even if the program never allocates: ld.so has initialised libc
// before any constructor of ours runs, so the environment is readable here.
__attribute__((constructor)) static void VmrecordPreloadInit() {
  ResolveReal();
  if (Enter()) Leave();  // Enter attached (and emitted the process start); nothing to record
}
