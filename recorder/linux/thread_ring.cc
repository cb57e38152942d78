#include "recorder/linux/thread_ring.h"

#include <sched.h>
#include <time.h>

namespace vmreplay::recorder {

void PauseWhileFull(uint32_t round) {
  if (round < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else if (round < 256) {
    sched_yield();
  } else {
    // The collector is behind by a whole ring: sleep briefly instead of burning a core that it
    // may need. nanosleep is a plain system call: no allocation, async-signal-safe.
    timespec ts{0, 50 * 1000};
    nanosleep(&ts, nullptr);
  }
}

}  // namespace vmreplay::recorder
