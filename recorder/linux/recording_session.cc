#include "recorder/linux/recording_session.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "recorder/linux/shared_ring_buffer.h"

extern char** environ;

namespace vmreplay::recorder::preload {
namespace {

namespace bip = boost::interprocess;

enum State : int { kUnattached, kAttaching, kActive, kDisabled };

std::atomic<int> g_state{kUnattached};
SessionHeader* g_session = nullptr;
SharedRingBuffer* g_ring = nullptr;
// Process identity; rewritten in a fork child before it records anything.
uint32_t g_pid = 0;
uint32_t g_instance = 0;
bool g_use_tsc = false;

// The mapping lives for the rest of the process: hooks run until the very last free during
// exit, so it is constructed in static storage and never destroyed.
alignas(bip::mapped_region) unsigned char g_region_storage[sizeof(bip::mapped_region)];

// Cached gettid(). initial-exec: the variable sits in the static TLS block, so reading it
// never calls __tls_get_addr (which may allocate).
thread_local uint32_t t_tid __attribute__((tls_model("initial-exec"))) = 0;

uint32_t Tid() {
  if (t_tid == 0) t_tid = static_cast<uint32_t>(syscall(SYS_gettid));
  return t_tid;
}

// Scans environ directly: getenv is fine too, but this makes "no allocation" obvious.
const char* FindEnv(const char* name) {
  if (environ == nullptr) return nullptr;
  const size_t len = strlen(name);
  for (char** e = environ; *e != nullptr; ++e) {
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
  }
  return nullptr;
}

bool CollectorGone() {
  if (g_session == nullptr) return true;
  return kill(static_cast<pid_t>(g_session->collector_pid), 0) == -1 && errno == ESRCH;
}

void EmitProcessStart(uint32_t parent_instance) {
  WireRecord record{};
  record.op = kWireProcessStart;
  record.timestamp = Now();
  record.arg = parent_instance;
  record.addr = static_cast<uint64_t>(getppid());
  Emit(&record);
}

// Sends the command line of a freshly exec'd image: short-lived processes are gone before the
// collector could read /proc/<pid>/cmdline itself. Plain system calls into a static buffer.
void EmitCommandLine() {
  static char buffer[kCommandLineMaxBytes];
  const long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  size_t used = 0;
  while (used < sizeof buffer) {
    const long n = syscall(SYS_read, fd, buffer + used, sizeof buffer - used);
    if (n <= 0) break;
    used += static_cast<size_t>(n);
  }
  syscall(SYS_close, fd);
  for (size_t offset = 0; offset < used; offset += kCommandLineChunkBytes) {
    WireRecord record{};
    record.op = kWireCommandLine;
    record.size = used - offset < kCommandLineChunkBytes ? used - offset : kCommandLineChunkBytes;
    unsigned char chunk[kCommandLineChunkBytes] = {};
    memcpy(chunk, buffer + offset, record.size);
    memcpy(&record.arg, chunk, 8);
    memcpy(&record.new_addr, chunk + 8, 8);
    memcpy(&record.result, chunk + 16, 8);
    Emit(&record);
  }
}

// pthread_atfork child handler: runs in the only thread of a new child process, before fork()
// returns there. The child keeps the parent's mapping of the ring and becomes a new instance.
void ChildAfterFork() {
  if (g_state.load(std::memory_order_acquire) != kActive) return;
  const int saved_errno = errno;
  t_tid = 0;
  g_pid = static_cast<uint32_t>(getpid());
  const uint32_t parent = g_instance;
  g_instance = g_session->next_instance.fetch_add(1, std::memory_order_relaxed);
  EmitProcessStart(parent);
  errno = saved_errno;
}

bool Attach() {
  const char* name = FindEnv(kRingEnvVar);
  if (name == nullptr || name[0] == '\0') return false;
  // Boost.Interprocess reports failure by throwing. This runs once per process image, never
  // on the per-call path; an exception here means "do not record this process".
  try {
    bip::shared_memory_object shm(bip::open_only, name, bip::read_write);
    auto* region = new (g_region_storage) bip::mapped_region(shm, bip::read_write);
    auto* base = static_cast<unsigned char*>(region->get_address());
    const size_t bytes = region->get_size();
    auto* session = reinterpret_cast<SessionHeader*>(base);
    if (bytes < kSessionHeaderBytes || session->magic != kSessionMagic ||
        session->version != kWireVersion || session->ring_offset + session->ring_bytes > bytes) {
      return false;
    }
    g_ring = SharedRingBuffer::Attach(base + session->ring_offset, session->ring_bytes);
    if (g_ring == nullptr) return false;
    g_session = session;
    g_use_tsc = session->clock == kClockTsc;
  } catch (...) {
    return false;
  }
  g_pid = static_cast<uint32_t>(getpid());
  g_instance = g_session->next_instance.fetch_add(1, std::memory_order_relaxed);
  pthread_atfork(nullptr, nullptr, &ChildAfterFork);
  return true;
}

}  // namespace

uint64_t Now() {
#if defined(__x86_64__)
  if (__builtin_expect(g_use_tsc, 1)) return __builtin_ia32_rdtsc();
#endif
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool EnsureSession() {
  int state = g_state.load(std::memory_order_acquire);
  if (state == kActive) return true;
  if (state != kUnattached) return false;  // disabled, or another thread is attaching
  // Until libc's own initialiser has run, environ is unset and the ring's name unknown:
  // such early calls (made by ld.so) pass through unrecorded, and we retry on the next call.
  if (environ == nullptr) return false;
  if (!g_state.compare_exchange_strong(state, kAttaching, std::memory_order_acq_rel)) {
    return state == kActive;
  }
  const int saved_errno = errno;
  const bool ok = Attach();
  errno = saved_errno;
  g_state.store(ok ? kActive : kDisabled, std::memory_order_release);
  if (ok) {
    EmitProcessStart(0);
    EmitCommandLine();
  }
  return ok;
}

namespace {
// While waiting for ring space: true once nobody will ever read. Recording then stops rather
// than block the program forever.
bool GiveUpWaiting() {
  if (!CollectorGone()) return false;
  g_state.store(kDisabled, std::memory_order_release);
  return true;
}

void Identify(WireRecord* record) {
  record->pid = g_pid;
  record->tid = Tid();
  record->instance = g_instance;
}
}  // namespace

void Emit(WireRecord* record) {
  Identify(record);
  const bool written = g_ring->Write(*record, g_pid, &GiveUpWaiting);
  (void)written;  // a skipped slot was already counted as dropped by the collector
}

uint64_t ReserveBeforeCall() {
  const uint64_t position = g_ring->Reserve();
  return g_ring->Claim(position, g_pid, /*inside_call=*/true, &GiveUpWaiting) ? position
                                                                              : kNoPosition;
}

void EmitAt(uint64_t position, WireRecord* record) {
  if (position == kNoPosition) return;
  Identify(record);
  g_ring->Commit(position, *record, g_pid);
}

}  // namespace vmreplay::recorder::preload
