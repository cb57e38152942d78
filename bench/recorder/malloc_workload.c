/* The malloc-heavy workload bench/recorder/overhead.sh records: THREADS threads, each making
 * CALLS malloc/free pairs (sizes 16..4111 from a fixed LCG, a window of 64 live blocks). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long g_calls = 1000000;

static void* Work(void* arg) {
  unsigned long x = (unsigned long)arg * 2654435761u + 1;
  void* live[64] = {0};
  for (long i = 0; i < g_calls; ++i) {
    x = x * 6364136223846793005ul + 1442695040888963407ul;
    const int slot = (int)((x >> 33) & 63);
    free(live[slot]);
    live[slot] = malloc(16 + ((x >> 40) & 4095));
    if (live[slot] != NULL) *(volatile char*)live[slot] = 1;
  }
  for (int i = 0; i < 64; ++i) free(live[i]);
  return NULL;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? atoi(argv[1]) : 2;
  if (argc > 2) g_calls = atol(argv[2]);
  pthread_t t[64];
  for (int i = 0; i < threads && i < 64; ++i) pthread_create(&t[i], NULL, Work, (void*)(long)i);
  for (int i = 0; i < threads && i < 64; ++i) pthread_join(t[i], NULL);
  return 0;
}
