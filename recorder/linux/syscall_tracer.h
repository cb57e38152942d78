// vmrecord's system-call tracer: records the mmap-family system calls that the preload's hooks
// cannot see, because glibc and ld.so make them with their own `syscall` instruction (glibc's
// malloc growing and trimming its heaps, thread stacks and their exit trims, setlocale's
// locale files, ld.so mapping a dlopen'ed library).
//
// How: the preload installs a seccomp filter (syscall_filter.h) that stops those calls for a
// ptrace tracer, unless they come from the preload's own system-call code. This tracer, a
// thread of vmrecord attached to the command with PTRACE_SEIZE (and, through the fork, vfork,
// clone and exec events, to everything it starts), reads each stopped call's registers, lets
// it run to its exit, and writes it into a ring of its own in the session segment, keyed like
// the preload's records (after the call; munmap before it), on the stopped thread's behalf
// and with its origin (CallOrigin, proto/event.h):
//   - libc:   the instruction pointer is in glibc's code (libc.so; libpthread before 2.34);
//   - heap:   the same, while that thread's re-entry guard is held, i.e. inside a recorded
//             malloc/free/...: the allocator's own pages, which a replay's heap recreates;
//             and glibc's calls on pages such calls mapped (an arena trimmed at thread exit);
//   - loader: in ld.so's code;
//   - other:  anywhere else (a program issuing syscall(2) itself from its own code).
// Each process image announces itself first (its instance, the guard's offset from the
// thread pointer, the preload's own-code range); calls of an image that has not (ld.so
// loading an exec'd program, before the preload starts) are counted, not recorded: the
// image's address-space snapshot, taken when it starts recording, already holds them.
//
// The tracer is also vmrecord's reaper: it waits for every child and tracee (waitpid __WALL)
// and hands process exits to the collector. Where ptrace is unavailable (vmrecord itself under
// strace or gdb, a seccomp policy that forbids it), the command runs untraced and the trace
// holds the hooked calls only, as before; stats() says why.
//
// Costs, measured in bench/recorder/overhead.sh: a traced call takes a few tens of us (two
// ptrace stops), and its recorded latency includes them; the hooked calls take no stop.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "proto/event.h"
#include "recorder/linux/ring_directory.h"

namespace vmreplay::recorder {

struct SyscallTracerStats {
  bool attached = false;  // the command was traced
  std::string not_attached_why;
  uint64_t images = 0;                       // process images that announced themselves
  uint64_t recorded[kCallOriginCount] = {};  // calls written, by origin (kHooked: none)
  uint64_t own_calls = 0;     // the preload's own, stopped by an earlier image's filter
  uint64_t before_start = 0;  // calls of images before their preload started (not recorded)
  uint64_t dropped = 0;       // calls whose record could not be written (no ring space)
  uint64_t RecordedTotal() const {
    uint64_t n = 0;
    for (uint64_t v : recorded) n += v;
    return n;
  }
};

class SyscallTracer {
 public:
  // `rings`: the session's segment (a ring is claimed from it); `use_tsc`: the session clock.
  SyscallTracer(const RingDirectory& rings, bool use_tsc, bool enabled);
  ~SyscallTracer();
  SyscallTracer(const SyscallTracer&) = delete;
  SyscallTracer& operator=(const SyscallTracer&) = delete;

  // Starts the tracer thread, which attaches to `child` (forked, waiting to exec) and from then
  // on reaps. Returns whether the child is traced (then it must be told so: kTracerEnvVar).
  bool Start(pid_t child);
  // What happened to the recorded processes since the last call, in order: a process exited
  // (its wait status), or one of its calls was lost (entered, and its thread died before the
  // call was seen to return: the footer's dropped_events counts it).
  struct Notice {
    pid_t pid;
    int status;
    bool lost_call;
  };
  void TakeNotices(std::vector<Notice>* notices);
  // True once no child and no tracee is left (every exit was handed over before this is set).
  bool done() const { return done_.load(std::memory_order_acquire); }
  // The tracer thread's id (valid once Start returned).
  uint32_t tid() const { return tid_.load(std::memory_order_acquire); }
  // Whether process image `instance` announced itself, i.e. its glibc and ld.so calls are traced.
  bool Announced(uint32_t instance) const;
  // Waits for the thread (REQUIRES: done()); stats are final afterwards.
  void Join();
  const SyscallTracerStats& stats() const { return stats_; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::atomic<uint32_t> tid_{0};
  std::mutex exits_mutex_;
  std::vector<Notice> exits_;
  SyscallTracerStats stats_;
};

}  // namespace vmreplay::recorder
