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
//  - A recorded call takes no lock and allocates nothing: it times the real call, fills one
//    WireRecord and copies it into the shared ring. errno is preserved as the real call left it.
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

thread_local int t_guard __attribute__((tls_model("initial-exec"))) = 0;

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

// Enter() == true: this call is recorded and the guard is held until Finish().
inline bool Enter() {
  if (t_guard != 0) return false;
  ++t_guard;
  if (!EnsureSession()) {
    --t_guard;
    return false;
  }
  return true;
}

// Where a call's record takes its place in the ring, which is its place in the trace's order.
enum class Order {
  // Everything but releases: what the call returns exists only once it has returned.
  kAfterCall,
  // free and munmap: the place is taken before the call, so the release comes before any
  // allocation that another thread makes of the same memory as soon as it is released.
  // (realloc and mremap both release and allocate; they stay kAfterCall, which orders their
  // result correctly and leaves the old block's release racing, as in heaptrack.)
  kBeforeCall,
};

// One recorded call: timestamps it, and on Finish() emits it and restores errno.
class RecordedCall {
 public:
  explicit RecordedCall(WireOp op, Order order = Order::kAfterCall) : saved_errno_(errno) {
    if (order == Order::kBeforeCall) {
      reserved_ = true;
      position_ = ReserveBeforeCall();
    }
    record_.op = op;
    errno = 0;
    record_.timestamp = Now();
  }
  RecordedCall(const RecordedCall&) = delete;
  RecordedCall& operator=(const RecordedCall&) = delete;

  WireRecord& record() { return record_; }

  // `failed`: the call reported failure through errno; `error` is what to record.
  void Finish(bool failed, uint32_t error) {
    const int call_errno = errno;
    record_.latency = Now() - record_.timestamp;
    record_.error = error;
    if (reserved_) {
      EmitAt(position_, &record_);
    } else {
      Emit(&record_);
    }
    errno = failed ? call_errno : saved_errno_;
    --t_guard;
  }
  // For calls that fail with errno.
  void FinishErrno(bool failed) { Finish(failed, failed ? static_cast<uint32_t>(errno) : 0); }

 private:
  WireRecord record_{};
  int saved_errno_;
  bool reserved_ = false;
  uint64_t position_ = 0;
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
  long r = syscall(nr, a, b, c, d, e, f);
  asm volatile("" : "+r"(r));  // keep this frame: no tail call
  return r;
}
extern "C" __attribute__((noinline)) VMRECORD_EXPORT long vmrecord_untraced_syscall(long nr, long a,
                                                                                    long b, long c,
                                                                                    long d, long e,
                                                                                    long f) {
  long r = syscall(nr, a, b, c, d, e, f);
  asm volatile("" : "+r"(r));
  return r;
}

namespace {

inline long L(const void* p) { return reinterpret_cast<long>(p); }
inline long L(uint64_t v) { return static_cast<long>(v); }
inline void* P(long r) { return reinterpret_cast<void*>(r); }

// A traced or untraced system call of the mmap family. Returns the raw result (-1 and errno
// set on failure, as syscall(2) does).
template <typename Fill>
long VmCall(WireOp op, Order order, long nr, long a, long b, long c, long d, long e, long f,
            Fill&& fill) {
  if (!Enter()) return vmrecord_untraced_syscall(nr, a, b, c, d, e, f);
  RecordedCall call(op, order);
  const long r = vmrecord_traced_syscall(nr, a, b, c, d, e, f);
  fill(call.record(), r);
  call.FinishErrno(r == -1);
  return r;
}

}  // namespace

extern "C" {

// ---- Virtual memory -------------------------------------------------------------------------

VMRECORD_EXPORT void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
  return P(VmCall(kWireMmap, Order::kAfterCall, SYS_mmap, L(addr), L(length), prot, flags, fd,
                  offset, [&](WireRecord& r, long result) {
                    r.addr = U(addr);
                    r.size = length;
                    r.protect = static_cast<uint32_t>(prot);
                    r.flags = static_cast<uint32_t>(flags);
                    r.fd = fd;
                    r.arg = static_cast<uint64_t>(offset);
                    r.result = static_cast<uint64_t>(result);
                  }));
}

VMRECORD_EXPORT void* mmap64(void* addr, size_t length, int prot, int flags, int fd, off64_t offset)
    __attribute__((alias("mmap")));

VMRECORD_EXPORT int munmap(void* addr, size_t length) {
  return static_cast<int>(VmCall(kWireMunmap, Order::kBeforeCall, SYS_munmap, L(addr), L(length), 0,
                                 0, 0, 0, [&](WireRecord& r, long) {
                                   r.addr = U(addr);
                                   r.size = length;
                                 }));
}

VMRECORD_EXPORT void* mremap(void* old_address, size_t old_size, size_t new_size, int flags, ...) {
  void* new_address = nullptr;
  if (flags & MREMAP_FIXED) {  // as glibc: the fifth argument exists only with MREMAP_FIXED
    va_list ap;
    va_start(ap, flags);
    new_address = va_arg(ap, void*);
    va_end(ap);
  }
  return P(VmCall(kWireMremap, Order::kAfterCall, SYS_mremap, L(old_address), L(old_size),
                  L(new_size), flags, L(new_address), 0, [&](WireRecord& r, long result) {
                    r.addr = U(old_address);
                    r.size = old_size;
                    r.arg = new_size;
                    r.flags = static_cast<uint32_t>(flags);
                    r.new_addr = U(new_address);
                    r.result = static_cast<uint64_t>(result);
                  }));
}

VMRECORD_EXPORT int mprotect(void* addr, size_t length, int prot) {
  return static_cast<int>(VmCall(kWireMprotect, Order::kAfterCall, SYS_mprotect, L(addr), L(length),
                                 prot, 0, 0, 0, [&](WireRecord& r, long) {
                                   r.addr = U(addr);
                                   r.size = length;
                                   r.protect = static_cast<uint32_t>(prot);
                                 }));
}

VMRECORD_EXPORT int madvise(void* addr, size_t length, int advice) {
  return static_cast<int>(VmCall(kWireMadvise, Order::kAfterCall, SYS_madvise, L(addr), L(length),
                                 advice, 0, 0, 0, [&](WireRecord& r, long) {
                                   r.addr = U(addr);
                                   r.size = length;
                                   r.flags = static_cast<uint32_t>(advice);
                                 }));
}

// ---- Heap -----------------------------------------------------------------------------------

VMRECORD_EXPORT void* malloc(size_t size) {
  if (!RealReady() && !ResolveReal()) return BootstrapAllocator::Allocate(size);
  if (!Enter()) return g_real.malloc(size);
  RecordedCall call(kWireMalloc);
  void* p = g_real.malloc(size);
  call.record().size = size;
  call.record().result = U(p);
  call.FinishErrno(p == nullptr);
  return p;
}

VMRECORD_EXPORT void* calloc(size_t count, size_t size) {
  if (!RealReady() && !ResolveReal()) {
    if (size != 0 && count > SIZE_MAX / size) return nullptr;
    return BootstrapAllocator::Allocate(count * size);  // bootstrap memory is zeroed
  }
  if (!Enter()) return g_real.calloc(count, size);
  RecordedCall call(kWireCalloc);
  void* p = g_real.calloc(count, size);
  call.record().arg = count;
  call.record().size = size;
  call.record().result = U(p);
  call.FinishErrno(p == nullptr);
  return p;
}

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
  RecordedCall call(kWireFree, Order::kBeforeCall);
  g_real.free(p);
  call.record().addr = U(p);
  call.Finish(false, 0);
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
  RecordedCall call(kWireRealloc);
  void* q = g_real.realloc(p, size);
  call.record().addr = U(p);
  call.record().size = size;
  call.record().result = U(q);
  // realloc(p, 0) frees p and returns NULL: not a failure.
  call.FinishErrno(q == nullptr && size != 0);
  return q;
}

VMRECORD_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) {
  if (!RealReady() && !ResolveReal()) {
    *out = BootstrapAllocator::Allocate(size, alignment);
    return *out != nullptr ? 0 : ENOMEM;
  }
  if (!Enter()) return g_real.posix_memalign(out, alignment, size);
  RecordedCall call(kWirePosixMemalign);
  const int rc = g_real.posix_memalign(out, alignment, size);
  call.record().arg = alignment;
  call.record().size = size;
  call.record().result = rc == 0 ? U(*out) : 0;
  call.Finish(false, static_cast<uint32_t>(rc));
  return rc;
}

}  // extern "C"

namespace {
// aligned_alloc, memalign, valloc and pvalloc share one shape: (alignment?, size) -> pointer.
template <typename Real>
void* AlignedCall(WireOp op, size_t alignment, size_t size, Real&& real) {
  if (!RealReady() && !ResolveReal()) {
    return BootstrapAllocator::Allocate(size, alignment != 0 ? alignment : 4096);
  }
  if (!Enter()) return real();
  RecordedCall call(op);
  void* p = real();
  call.record().arg = alignment;
  call.record().size = size;
  call.record().result = U(p);
  call.FinishErrno(p == nullptr);
  return p;
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
  if (Enter()) --t_guard;  // Enter attached (and emitted the process start); nothing to record
}
