// A small multi-threaded mmap-family workload for strace. Build and trace:
//   gcc -O1 -pthread -o /tmp/strace_sample strace_sample.c
//   strace -f -e trace=memory -o strace_sample.log /tmp/strace_sample
//   strace -f -tt -T -e trace=memory -o strace_sample_tt.log /tmp/strace_sample
// Each thread reserves a PROT_NONE range, commits part of it with mprotect, grows a mapping with
// mremap, decommits with madvise(MADV_DONTNEED), unmaps part then all; one mmap fails (ENOMEM).
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

static void* Work(void* arg) {
  const size_t reserve = (size_t)(uintptr_t)arg << 20;
  for (int round = 0; round < 3; ++round) {
    char* r = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return NULL;
    mprotect(r, 256 << 10, PROT_READ | PROT_WRITE);
    memset(r, 1, 256 << 10);
    madvise(r, 128 << 10, MADV_DONTNEED);
    munmap(r + reserve - (64 << 10), 64 << 10);
    munmap(r, reserve - (64 << 10));
    char* m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m = mremap(m, 1 << 16, 1 << 20, MREMAP_MAYMOVE);
    if (m != MAP_FAILED) munmap(m, 1 << 20);
  }
  return NULL;
}

int main(void) {
  pthread_t t[3];
  for (int i = 0; i < 3; ++i) pthread_create(&t[i], NULL, Work, (void*)(uintptr_t)(4 + 4 * i));
  // Fails with ENOMEM: more than the address space holds.
  void* huge = mmap(NULL, (size_t)1 << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  (void)huge;
  for (int i = 0; i < 3; ++i) pthread_join(t[i], NULL);
  return 0;
}
