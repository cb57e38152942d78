/* The cheapest possible recorder of the heap calls, for bench/recorder/timing_floor.sh: it
 * interposes malloc, calloc, realloc and free and forwards them to glibc, and nothing else
 * (no ring, no collector, no trace). Built twice:
 *   -DREAD_CLOCK=0  forwarding only: the cost of being an LD_PRELOAD interposer at all;
 *   -DREAD_CLOCK=1  plus the two clock reads vmrecord makes per call for its key and latency
 *                   (lfence; rdtsc once, rdtsc once), summed into a thread-local so that they
 *                   cannot be optimised away.
 * Whatever slowdown the second one shows is a floor under any recorder that times every call. */
#include <stddef.h>
#include <stdint.h>
#include <x86intrin.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void __libc_free(void*);

#if READ_CLOCK
static __thread uint64_t t_clock_sum __attribute__((tls_model("initial-exec")));
#define BEFORE() const uint64_t entry_ = __rdtsc()
#define AFTER()                              \
  do {                                       \
    _mm_lfence();                            \
    t_clock_sum += __rdtsc() - entry_;       \
    __asm__ volatile("" ::"m"(t_clock_sum)); \
  } while (0)
#else
#define BEFORE() \
  do {           \
  } while (0)
#define AFTER() \
  do {          \
  } while (0)
#endif

void* malloc(size_t n) {
  BEFORE();
  void* p = __libc_malloc(n);
  AFTER();
  return p;
}
void* calloc(size_t c, size_t n) {
  BEFORE();
  void* p = __libc_calloc(c, n);
  AFTER();
  return p;
}
void* realloc(void* q, size_t n) {
  BEFORE();
  void* p = __libc_realloc(q, n);
  AFTER();
  return p;
}
void free(void* p) {
  BEFORE();
  __libc_free(p);
  AFTER();
}
