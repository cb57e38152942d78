// The program the recorder tests record. Every mode makes a known number of calls, marked so
// the tests can tell them from the runtime's own (heap calls use sizes from kMarkerBase up;
// the mmap family is never called by glibc through the dynamic symbol table, so its counts
// are exact).
//
//   workload counts           several threads + a fork child + an exec'd child (see below)
//   workload exec-child       what the exec'd child runs
//   workload sigkill N FILE   N marked mallocs and N mmaps, then writes its pid to FILE and
//                             waits to be killed
//   workload mtrace           marked heap calls between two marker mallocs (mtrace cross-check)
//   workload reuse-race       one thread maps while another unmaps what it mapped before, so
//                             the kernel keeps handing out ranges released a moment earlier
//   workload neighbour        maps 8 MiB right below a file mapping made before recording began
//                             (a library, or vmrecord's ring segment; only the trace's
//                             address-space snapshot knows it is there) and grows it
//                             to 16 MiB with mremap, which must move it; prints both addresses
#include <malloc.h>
#include <mcheck.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "tests/recorder/workload_counts.h"

namespace {

using namespace vmreplay::recorder::workload;  // NOLINT: the shared constants

// Calls through these volatile pointers cannot be optimised away or merged (GCC removes a
// malloc whose block is only freed, and turns realloc(nullptr, n) into malloc(n)).
void* (*volatile g_malloc)(size_t) = malloc;
void* (*volatile g_realloc)(void*, size_t) = realloc;
void (*volatile g_free)(void*) = free;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "workload: %s failed\n", what);
    std::_Exit(3);
  }
}

// Per thread: kVmRounds x (mmap PROT_NONE, mprotect RW, madvise DONTNEED, munmap), then one
// mmap + mremap + munmap; kHeapRounds marked mallocs and their frees.
void* ThreadBody(void* arg) {
  const size_t index = reinterpret_cast<size_t>(arg);
  for (int i = 0; i < kVmRounds; ++i) {
    void* p = mmap(nullptr, 64 * 1024, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    Check(p != MAP_FAILED, "mmap");
    Check(mprotect(p, 16 * 1024, PROT_READ | PROT_WRITE) == 0, "mprotect");
    static_cast<char*>(p)[0] = 1;
    Check(madvise(p, 16 * 1024, MADV_DONTNEED) == 0, "madvise");
    Check(munmap(p, 64 * 1024) == 0, "munmap");
  }
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  Check(p != MAP_FAILED, "mmap");
  void* q = mremap(p, 4096, 8192, MREMAP_MAYMOVE);
  Check(q != MAP_FAILED, "mremap");
  Check(munmap(q, 8192) == 0, "munmap");
  void* blocks[kHeapRounds];
  for (int i = 0; i < kHeapRounds; ++i) {
    blocks[i] = malloc(kMarkerBase + index * kHeapRounds + static_cast<size_t>(i));
    Check(blocks[i] != nullptr, "malloc");
  }
  for (int i = 0; i < kHeapRounds; ++i) free(blocks[i]);
  return nullptr;
}

// One call of every other heap function, with marked sizes.
void OtherHeapCalls() {
  void* c = calloc(3, kMarkerCallocSize);
  void* r = g_realloc(nullptr, kMarkerReallocSize);
  r = realloc(r, kMarkerReallocSize * 2);
  void* pm = nullptr;
  Check(posix_memalign(&pm, 64, kMarkerAlignedSize) == 0, "posix_memalign");
  void* aa = aligned_alloc(64, kMarkerAlignedSize);
  void* ma = memalign(64, kMarkerAlignedSize);
  void* va = valloc(kMarkerAlignedSize);
  void* pv = pvalloc(kMarkerAlignedSize);
  for (void* p : {c, r, pm, aa, ma, va, pv}) free(p);
}

int Counts(const char* self) {
  pthread_t threads[kThreads];
  for (size_t t = 0; t < kThreads; ++t) {
    Check(pthread_create(&threads[t], nullptr, ThreadBody, reinterpret_cast<void*>(t)) == 0,
          "pthread_create");
  }
  for (pthread_t& t : threads) pthread_join(t, nullptr);
  OtherHeapCalls();

  // A fork child: its own trace.
  pid_t child = fork();
  Check(child >= 0, "fork");
  if (child == 0) {
    for (int i = 0; i < kForkChildMmaps; ++i) {
      void* p = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      munmap(p, 4096);
    }
    for (int i = 0; i < kForkChildMallocs; ++i) g_free(g_malloc(kMarkerBase + i));
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  Check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child");

  // A fork child that execs: the exec'd image gets a trace of its own.
  child = fork();
  Check(child >= 0, "fork");
  if (child == 0) {
    execl(self, self, "exec-child", static_cast<char*>(nullptr));
    _exit(127);
  }
  waitpid(child, &status, 0);
  Check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exec child");
  return kExitCode;
}

int ExecChild() {
  for (int i = 0; i < kExecChildMmaps; ++i) {
    void* p = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, 4096);
  }
  return 0;
}

int SigKill(int n, const char* ready_file) {
  for (int i = 0; i < n; ++i) {
    Check(malloc(kMarkerBase + static_cast<size_t>(i)) != nullptr, "malloc");
    Check(mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED, "mmap");
  }
  {
    std::string tmp = std::string(ready_file) + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    Check(f != nullptr, "fopen");
    std::fprintf(f, "%d\n", static_cast<int>(getpid()));
    std::fclose(f);
    Check(rename(tmp.c_str(), ready_file) == 0, "rename");
  }
  for (;;) pause();
}

int MtraceWindow() {
  // glibc 2.34+: mtrace() logs only with libc_malloc_debug.so preloaded and MALLOC_TRACE set;
  // otherwise it does nothing. Its own allocations (the log FILE) come before the window.
  mtrace();
  // Everything between the two window markers is counted by both the recorder and mtrace.
  g_free(g_malloc(kWindowBeginSize));
  for (int i = 0; i < kHeapRounds; ++i) g_free(g_malloc(kMarkerBase + static_cast<size_t>(i)));
  void* c = calloc(4, 100);
  void* r = g_realloc(nullptr, 300);
  r = realloc(r, 5000);
  void* m = memalign(64, 1000);
  free(c);
  free(r);
  free(m);
  g_free(nullptr);  // through the pointer: GCC deletes a literal free(nullptr)
  g_free(g_malloc(kWindowEndSize));
  return 0;
}

int ReuseRace() {
  std::atomic<void*> handed{nullptr};
  std::thread unmapper([&] {
    for (int i = 0; i < kReuseRaceRounds; ++i) {
      void* p;
      // Yield while waiting: with more threads than cores (tests run in parallel), a pure
      // spin waits out the other thread's whole time slice at every hand-over.
      while ((p = handed.exchange(nullptr, std::memory_order_acquire)) == nullptr) {
        std::this_thread::yield();
      }
      munmap(p, kReuseRaceBytes);
    }
  });
  for (int i = 0; i < kReuseRaceRounds; ++i) {
    void* p = mmap(nullptr, kReuseRaceBytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    Check(p != MAP_FAILED, "mmap");
    void* empty = nullptr;
    while (!handed.compare_exchange_weak(empty, p, std::memory_order_release)) {
      empty = nullptr;
      std::this_thread::yield();
    }
  }
  unmapper.join();
  return 0;
}

int Neighbour() {
  // Mappings in address order: find one of a file with 32 MiB free below it.
  std::ifstream maps("/proc/self/maps");
  std::string line;
  uintptr_t previous_end = 0, below = 0;
  while (std::getline(maps, line)) {
    uintptr_t start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) != 2) continue;
    if (line.find('/') != std::string::npos && previous_end != 0 &&
        start - previous_end >= (32u << 20)) {
      below = start;
      break;
    }
    previous_end = end;
  }
  Check(below != 0, "a file mapping with room below it");
  constexpr size_t kSize = 8u << 20;
  void* p = mmap(reinterpret_cast<void*>(below - kSize), kSize, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  Check(p == reinterpret_cast<void*>(below - kSize), "mmap right below it");
  void* q = mremap(p, kSize, 2 * kSize, MREMAP_MAYMOVE);
  Check(q != MAP_FAILED && q != p, "mremap moves");
  std::printf("%p %p\n", p, q);
  munmap(q, 2 * kSize);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "counts") == 0) return Counts(argv[0]);
  if (argc >= 2 && std::strcmp(argv[1], "exec-child") == 0) return ExecChild();
  if (argc >= 4 && std::strcmp(argv[1], "sigkill") == 0)
    return SigKill(std::atoi(argv[2]), argv[3]);
  if (argc >= 2 && std::strcmp(argv[1], "mtrace") == 0) return MtraceWindow();
  if (argc >= 2 && std::strcmp(argv[1], "reuse-race") == 0) return ReuseRace();
  if (argc >= 2 && std::strcmp(argv[1], "neighbour") == 0) return Neighbour();
  std::fprintf(stderr,
               "usage: workload counts|exec-child|sigkill N FILE|mtrace|reuse-race|neighbour\n");
  return 2;
}
