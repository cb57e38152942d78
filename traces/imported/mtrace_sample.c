// A small allocation workload for glibc's mtrace(3). Build and run (glibc >= 2.34 moved the
// tracer into libc_malloc_debug.so, which must be preloaded for mtrace() to do anything):
//   gcc -O0 -g -o /tmp/mtrace_sample mtrace_sample.c
//   MALLOC_TRACE=mtrace_sample.log LD_PRELOAD=libc_malloc_debug.so.0 /tmp/mtrace_sample
#include <mcheck.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  mtrace();
  void* keep[64] = {0};
  for (int i = 0; i < 64; ++i) {
    keep[i] = malloc((size_t)(16 + 24 * i));
    memset(keep[i], i, 16);
  }
  for (int i = 0; i < 64; i += 2) {
    keep[i] = realloc(keep[i], (size_t)(48 + 40 * i));
  }
  void* zeroed = calloc(10, 32);
  void* aligned = NULL;
  if (posix_memalign(&aligned, 64, 200) != 0) return 1;
  void* big = malloc(1 << 20);  // above the mmap threshold
  free(big);
  for (int i = 0; i < 64; i += 3) free(keep[i]);
  free(zeroed);
  free(aligned);
  void* leak = malloc(77);  // left live on purpose: mtrace reports it
  (void)leak;
  muntrace();
  return 0;
}
