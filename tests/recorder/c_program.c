/* A C program (no C++ runtime of its own) with a known set of heap calls from main on, for
 * tests/recorder/unchanged_program_test.cc: under mtrace alone and under vmrecord, the calls must
 * be the same, in the same order, with the same sizes. */
#include <mcheck.h>
#include <pthread.h>
#include <stdlib.h>

static void* (*volatile call_malloc)(size_t) = malloc;
static void (*volatile call_free)(void*) = free;

static void* Worker(void* arg) {
  call_free(call_malloc(1234));
  return arg;
}

int main(void) {
  mtrace();
  void* a = call_malloc(100);
  void* b = calloc(3, 50);
  a = realloc(a, 5000);
  pthread_t thread;
  if (pthread_create(&thread, NULL, Worker, NULL) != 0) return 1;
  pthread_join(thread, NULL);
  call_free(a);
  call_free(b);
  /* The end marker: at exit mtrace runs __libc_freeres, whose frees only a traced run makes. */
  call_free(call_malloc(4321));
  return 0;
}
