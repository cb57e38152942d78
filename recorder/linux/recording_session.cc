#include "recorder/linux/recording_session.h"

#include <fcntl.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "recorder/linux/own_syscall.h"
#include "recorder/linux/ring_directory.h"
#include "recorder/linux/syscall_filter.h"

extern char** environ;

namespace vmreplay::recorder::preload {

SessionState g_session_state;
thread_local constinit ThreadWriter t_writer __attribute__((tls_model("initial-exec")));
thread_local constinit int t_guard __attribute__((tls_model("initial-exec"))) = 0;

namespace {

using internal::g_attach_state;
using internal::kActive;
using internal::kAttaching;
using internal::kDisabled;
using internal::kUnattached;
SessionHeader* g_session = nullptr;
RingDirectory g_rings;
// Hands an exiting thread's ring back (RetireThreadRing); absent if no key was available.
pthread_key_t g_thread_key;
bool g_have_thread_key = false;

constexpr uint64_t kNoEntry = ~uint64_t{0};  // a control record: no call, no latency

uint64_t Identity(const ThreadWriter& w) {
  return uint64_t{g_session_state.instance} << 32 | w.tid;
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

// While waiting for ring space: true once nobody will ever read. Recording then stops rather
// than block the program forever.
bool GiveUpWaiting() {
  if (!CollectorGone()) return false;
  g_attach_state.store(kDisabled, std::memory_order_release);
  return true;
}

// The collector fences every registered writer with membarrier(GLOBAL_EXPEDITED) before it
// reads their pending marks; a process that cannot register fences each record itself.
void RegisterForCollectorFence() {
  g_session_state.fence_per_record =
      g_session->fence != kFenceMembarrier ||
      syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) != 0;
}

// pthread key destructor: the thread is exiting. Its owned ring goes back to the collector,
// which frees it once read; anything the thread records from here on goes to a shared ring.
void RetireThreadRing(void*) {
  ++t_guard;  // nothing recorded from here may use the ring being handed back
  ThreadWriter& w = t_writer;
  if (w.mode == ThreadWriter::kOwned) {
    w.mode = ThreadWriter::kNone;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    ThreadRingHeader& header = *w.ring.header;
    header.owner.store(header.owner.load(std::memory_order_relaxed) | owner_word::kRetired,
                       std::memory_order_release);
  }
  w.retired = true;
  w.mode = ThreadWriter::kNone;
  --t_guard;
}

// Locks a shared ring for this thread: returns the pending mark it holds, and the head.
uint64_t LockShared(const RingView& ring, uint32_t tid, bool inside_call, uint64_t* head) {
  std::atomic<uint64_t>& pending = ring.header->pending;
  for (uint32_t round = 0;; ++round) {
    uint64_t expected = 0;
    const uint64_t h = ring.header->head.load(std::memory_order_acquire);
    uint64_t mark = pending_mark::Make(g_session_state.pid, tid, inside_call, h);
    if (pending.load(std::memory_order_relaxed) == 0 &&
        pending.compare_exchange_weak(expected, mark, std::memory_order_acq_rel)) {
      // Another holder may have published between the head read and the lock.
      *head = ring.header->head.load(std::memory_order_acquire);
      if (*head != h) {
        mark = pending_mark::Make(g_session_state.pid, tid, inside_call, *head);
        pending.store(mark, std::memory_order_relaxed);
      }
      return mark;
    }
    // Holders keep the lock for one record (or one free/munmap call); a dead one is cleared
    // by the collector.
    PauseWhileFull(round < 64 ? round : 64 + (round & 127));
  }
}

// Under a shared ring's lock: a writer record ahead of this thread's record if the ring's last
// record came from someone else. Returns its length in words (0 if none was needed).
unsigned PutWriterIfNeeded(const RingView& ring, uint64_t at, uint64_t key, const ThreadWriter& w) {
  const uint64_t identity = Identity(w);
  if (ring.header->last_writer == identity) return 0;
  ring.header->last_writer = identity;
  const uint64_t payload[2] = {identity, g_session_state.pid};
  return internal::PutRecord(ring, at, key, kWireWriter, 0, 0, payload, 2);
}

// The first record of a thread: claims a ring of its own (and names its writer in it), or
// picks a shared ring when all are taken or the thread has retired its own.
void PrepareWriter(ThreadWriter& w) {
  if (w.tid == 0) w.tid = static_cast<uint32_t>(syscall(SYS_gettid));
  if (!w.retired) {
    const int index = g_rings.Claim(g_session_state.pid, w.tid);
    if (index >= 0) {
      w.ring = g_rings.Ring(static_cast<uint32_t>(index));
      w.limit = 0;
      w.mode = ThreadWriter::kOwned;
      if (g_have_thread_key) pthread_setspecific(g_thread_key, reinterpret_cast<void*>(1));
      const uint64_t payload[2] = {Identity(w), g_session_state.pid};
      EmitControl(kWireWriter, 0, payload, 2);
      return;
    }
  }
  w.ring = g_rings.Ring(g_rings.SharedIndexFor(w.tid));
  w.mode = ThreadWriter::kShared;
}

void EmitProcessStart(uint32_t parent_instance) {
  const uint64_t payload[2] = {parent_instance, static_cast<uint64_t>(getppid())};
  EmitControl(kWireProcessStart, 0, payload, 2);
}

// Sends `size` bytes as records of `op` (kWireCommandLine, kWireMappingName): up to
// kCommandLineChunkBytes each, the byte count in the header's error field.
void EmitBytes(uint8_t op, const char* data, size_t size) {
  for (size_t at = 0; at < size; at += kCommandLineChunkBytes) {
    const size_t bytes = size - at < kCommandLineChunkBytes ? size - at : kCommandLineChunkBytes;
    uint64_t words[kCommandLineChunkBytes / 8] = {};
    memcpy(words, data + at, bytes);
    EmitControl(op, static_cast<uint32_t>(bytes), words, kCommandLineChunkBytes / 8);
  }
}

// Sends the command line of a freshly exec'd image: short-lived processes are gone before the
// collector could read /proc/<pid>/cmdline itself. Plain system calls into a static buffer.
void EmitCommandLine() {
  static char buffer[kCommandLineMaxBytes];
  EmitBytes(kWireCommandLine, buffer, ReadWholeFile("/proc/self/cmdline", buffer, sizeof buffer));
}

uint64_t ParseHex(const char*& p, const char* end) {
  uint64_t v = 0;
  for (; p < end; ++p) {
    const char c = *p;
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) break;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

uint64_t ParseDecimal(const char*& p, const char* end) {
  uint64_t v = 0;
  for (; p < end && *p >= '0' && *p <= '9'; ++p) v = v * 10 + static_cast<uint64_t>(*p - '0');
  return v;
}

void SkipSpaces(const char*& p, const char* end) {
  while (p < end && *p == ' ') ++p;
}

// One line of /proc/self/maps: "start-end rwxp offset dev inode   path".
void EmitMappingLine(const char* line, const char* end) {
  const char* p = line;
  const uint64_t start = ParseHex(p, end);
  if (p == end || *p++ != '-') return;
  const uint64_t stop = ParseHex(p, end);
  SkipSpaces(p, end);
  if (end - p < 4) return;
  const uint64_t prot = (p[0] == 'r' ? 1u : 0u) | (p[1] == 'w' ? 2u : 0u) | (p[2] == 'x' ? 4u : 0u);
  const uint64_t shared = p[3] == 's' ? 1 : 0;
  p += 4;
  SkipSpaces(p, end);
  const uint64_t offset = ParseHex(p, end);
  SkipSpaces(p, end);
  while (p < end && *p != ' ') ++p;  // dev
  SkipSpaces(p, end);
  const uint64_t inode = ParseDecimal(p, end);
  SkipSpaces(p, end);
  const size_t path_len = static_cast<size_t>(end - p);
  const uint64_t payload[5] = {start, stop, prot | shared << 32, offset, inode};
  EmitControl(kWireMapping, 0, payload, 5);
  EmitBytes(kWireMappingName, p, path_len);
}

// Sends the address space as it is now (/proc/self/maps), before the image's first recorded
// call: the neighbours its calls will have. Plain system calls, a static buffer, no allocation.
void EmitMappings() {
  static char buffer[8192];  // a line is at most ~4.2 KiB (PATH_MAX path)
  const long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  size_t used = 0;
  bool skipping = false;  // inside a line longer than the buffer: dropped up to its end
  for (;;) {
    const long n = syscall(SYS_read, fd, buffer + used, sizeof buffer - used);
    if (n <= 0) break;
    used += static_cast<size_t>(n);
    size_t line = 0;
    for (size_t i = 0; i < used; ++i) {
      if (buffer[i] != '\n') continue;
      if (!skipping) EmitMappingLine(buffer + line, buffer + i);
      skipping = false;
      line = i + 1;
    }
    if (line == 0 && used == sizeof buffer) {
      skipping = true;
      used = 0;
      continue;
    }
    memmove(buffer, buffer + line, used - line);
    used -= line;
  }
  syscall(SYS_close, fd);
}

// pthread_atfork child handler: runs in the only thread of a new child process, before fork()
// returns there. The child keeps the parent's mapping of the segment and becomes a new
// instance with rings of its own.
void ChildAfterFork() {
  if (g_attach_state.load(std::memory_order_acquire) != kActive) return;
  const int saved_errno = errno;
  ++t_guard;
  t_writer = ThreadWriter{};
  g_session_state.pid = static_cast<uint32_t>(getpid());
  const uint32_t parent = g_session_state.instance;
  g_session_state.instance = g_session->next_instance.fetch_add(1, std::memory_order_relaxed);
  RegisterForCollectorFence();
  EmitProcessStart(parent);
  // Its own command line (its parent's argv, until it execs) and address space (its parent's).
  EmitCommandLine();
  EmitMappings();
  AnnounceImage(g_session_state.instance, &t_guard);  // the filter came with the fork
  --t_guard;
  errno = saved_errno;
}

bool AttachSegment() {
  const char* name = FindEnv(kRingEnvVar);
  if (name == nullptr || name[0] == '\0') return false;
  // The collector's POSIX shared memory object, "/dev/shm" + its name (what shm_open opens),
  // mapped with plain system calls: the preload links no C++ runtime and calls no hooked
  // function. The mapping lives for the rest of the process (hooks run until the last free).
  char path[256] = "/dev/shm";
  const size_t name_len = strlen(name);
  if (name[0] != '/' || name_len + 9 > sizeof path) return false;
  memcpy(path + 8, name, name_len + 1);
  const long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  const long stat_rc = syscall(SYS_fstat, fd, &st);
  void* address = stat_rc == 0 && st.st_size >= static_cast<off_t>(kSessionHeaderBytes)
                      ? reinterpret_cast<void*>(OwnSyscall(
                            SYS_mmap, 0, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0))
                      : MAP_FAILED;
  syscall(SYS_close, fd);
  if (address == MAP_FAILED) return false;
  const size_t bytes = static_cast<size_t>(st.st_size);
  auto* session = static_cast<SessionHeader*>(address);
  if (session->magic != kSessionMagic || session->version != kWireVersion ||
      !g_rings.Attach(session, bytes)) {
    OwnSyscall(SYS_munmap, reinterpret_cast<long>(address), static_cast<long>(bytes), 0, 0, 0, 0);
    return false;
  }
  g_session = session;
  g_session_state.use_tsc = session->clock == kClockTsc;
  g_session_state.coarse = session->timing == kTimingCoarse;
  g_session_state.pid = static_cast<uint32_t>(getpid());
  g_session_state.instance = g_session->next_instance.fetch_add(1, std::memory_order_relaxed);
  RegisterForCollectorFence();
  g_have_thread_key = pthread_key_create(&g_thread_key, &RetireThreadRing) == 0;
  pthread_atfork(nullptr, nullptr, &ChildAfterFork);
  return true;
}

}  // namespace

namespace internal {

std::atomic<int> g_attach_state{kUnattached};

bool EnsureSessionSlow() {
  int state = g_attach_state.load(std::memory_order_acquire);
  if (state == kActive) return true;
  if (state != kUnattached) return false;  // disabled, or another thread is attaching
  // Until libc's own initialiser has run, environ is unset and the segment's name unknown:
  // such early calls (made by ld.so) pass through unrecorded, and we retry on the next call.
  if (environ == nullptr) return false;
  if (!g_attach_state.compare_exchange_strong(state, kAttaching, std::memory_order_acq_rel)) {
    return state == kActive;
  }
  const int saved_errno = errno;
  const bool ok = AttachSegment();
  g_attach_state.store(ok ? kActive : kDisabled, std::memory_order_release);
  if (ok) {
    EmitProcessStart(0);
    EmitCommandLine();
    EmitMappings();
    StartSyscallTracing(g_session_state.instance, &t_guard, g_session->tracer_tid);
  }
  errno = saved_errno;  // nothing of the attach (a failed /proc read) shows in the program
  return ok;
}

}  // namespace internal

namespace internal {

bool WaitForOwnedSpace(ThreadWriter& w, uint64_t head, unsigned words) {
  return WaitForSpace(w.ring, head, words, &w.limit, &GiveUpWaiting);
}

void EmitSlow(uint8_t op, uint64_t entry, uint32_t error, const uint64_t* payload, unsigned n) {
  ThreadWriter& w = t_writer;
  if (w.mode == ThreadWriter::kNone) PrepareWriter(w);
  const unsigned max_words = kRecordHeaderWords + n + 1;
  const RingView& ring = w.ring;
  uint64_t head;
  unsigned prefix = 0;
  if (w.mode == ThreadWriter::kOwned) {
    head = ring.header->head.load(std::memory_order_relaxed);
    if (head + max_words > w.limit && !WaitForOwnedSpace(w, head, max_words)) return;
    MarkPending(ring, pending_mark::Make(g_session_state.pid, w.tid, false, head));
  } else {
    LockShared(ring, w.tid, false, &head);
    uint64_t limit;
    if (!WaitForSpace(ring, head, 4 + max_words, &limit, &GiveUpWaiting)) {
      ring.header->pending.store(0, std::memory_order_release);
      return;
    }
  }
  const uint64_t key = KeyNow();
  if (w.mode == ThreadWriter::kShared) prefix = PutWriterIfNeeded(ring, head, key, w);
  const uint64_t latency = entry == kNoEntry ? 0 : LatencyOf(key, entry);
  const unsigned words = PutRecord(ring, head + prefix, key, op, error, latency, payload, n);
  Publish(ring, head, prefix + words, key);
}

}  // namespace internal

void ReleaseRecord::BeginSlow(unsigned max_words) {
  ThreadWriter& w = t_writer;
  if (w.mode == ThreadWriter::kNone) PrepareWriter(w);
  ring_ = w.ring;
  if (w.mode == ThreadWriter::kOwned) {
    head_ = ring_.header->head.load(std::memory_order_relaxed);
    if (head_ + max_words > w.limit && !internal::WaitForOwnedSpace(w, head_, max_words)) return;
    mark_ = pending_mark::Make(g_session_state.pid, w.tid, /*inside_call=*/true, head_);
    internal::MarkPending(ring_, mark_);
    key_ = KeyNow();
  } else {
    mark_ = LockShared(ring_, w.tid, /*inside_call=*/true, &head_);
    uint64_t limit;
    if (!WaitForSpace(ring_, head_, 4 + max_words, &limit, &GiveUpWaiting)) {
      ring_.header->pending.store(0, std::memory_order_release);
      return;
    }
    key_ = KeyNow();
    prefix_words_ = PutWriterIfNeeded(ring_, head_, key_, w);
  }
  active_ = true;
}

void EmitControl(uint8_t op, uint32_t error, const uint64_t* payload, unsigned n) {
  internal::EmitSlow(op, kNoEntry, error, payload, n);
}

}  // namespace vmreplay::recorder::preload
