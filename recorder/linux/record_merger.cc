#include "recorder/linux/record_merger.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace vmreplay::recorder {

RecordMerger::RecordMerger(const RingDirectory& rings, Options options)
    : rings_(rings), options_(options), cursors_(rings.total_rings()) {
  for (uint32_t i = rings.ring_count(); i < rings.total_rings(); ++i) order_.push_back(i);
}

uint64_t RecordMerger::ClockNow() const {
#if defined(__x86_64__)
  if (options_.use_tsc) {
    _mm_lfence();
    const uint64_t t = __rdtsc();
    _mm_lfence();  // read before anything the round does next
    return t;
  }
#endif
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void RecordMerger::FenceWriters() const {
  if (options_.membarrier) syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
#if !defined(__SANITIZE_THREAD__)
  // On x86 the lfence after the clock read already keeps the marks' loads after it; this is
  // for the compiler and other targets. (ThreadSanitizer rejects fences, and cannot follow a
  // membarrier protocol anyway: under it the tests check the rings' data races only.)
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

uint64_t RecordMerger::Refresh(uint32_t i, uint64_t t) {
  Cursor& c = cursors_[i];
  const ThreadRingHeader& header = *rings_.Ring(i).header;
  // The mark first: a record whose mark is already cleared is published (Publish clears the
  // mark after the head).
  const uint64_t mark = header.pending.load(std::memory_order_acquire);
  c.head = header.head.load(std::memory_order_acquire);
  c.last_key = header.last_key.load(std::memory_order_relaxed);
  if (mark == 0) {
    c.idle_since = t;
  } else if (mark != c.mark) {
    c.mark_since = std::chrono::steady_clock::now();
  }
  c.mark = mark;
  if (!c.broken && c.head - c.tail > rings_.Ring(i).capacity()) {  // no writer publishes that
    Break(i, "head " + std::to_string(c.head) + " is more than a ring ahead of the tail");
  }
  if (c.broken) {
    // Nothing more is read from it, but its writer must not wait for space forever.
    if (c.head > c.tail) unreadable_words_ += c.head - c.tail;
    c.tail = c.head;
    rings_.Ring(i).header->tail.store(c.tail, std::memory_order_release);
    return ~uint64_t{0};
  }
  return std::max(c.last_key, c.idle_since);
}

void RecordMerger::Break(uint32_t i, const std::string& why) {
  Cursor& c = cursors_[i];
  if (c.broken) return;
  c.broken = true;
  if (corruption_.empty()) {
    corruption_ = "ring " + std::to_string(i) + " at word " + std::to_string(c.tail) + ": " + why;
  }
}

}  // namespace vmreplay::recorder
