// One ring of records in the shared segment: written by one thread at a time, read by the
// collector, which merges all rings by key (record_merger.h).
//
// Guarantees:
//  - An owned ring has exactly one writer, the thread that claimed it: a record costs plain
//    stores (plus one atomic exchange in kFencePerRecord mode), no lock, no allocation, and no
//    cache line that another writer touches. Threads beyond the owned rings share the few
//    shared rings, taking `pending` as a lock with a compare-and-swap.
//  - Records in a ring are in key order: one writer at a time, and it reads its key after it
//    marked the record as pending, from a clock that does not go back.
//  - Nothing is dropped: a writer waits while the ring is full (spin, yield, then short
//    sleeps); it gives up only when told to (the collector is gone).
//  - While a writer produces a record, `pending` names it and says whether it is inside a call
//    that, should the writer die now, never returned (then nothing is lost). The collector
//    bounds the keys still to come with it (record_merger.h) and clears it for dead writers.
//  - No pointers inside: the segment works at different addresses in different processes, and
//    an all-zero header is an empty, free ring.
#pragma once

#include <atomic>
#include <cstdint>

#include "recorder/linux/wire_protocol.h"

namespace vmreplay::recorder {

struct ThreadRingHeader {
  // Written by the ring's writer, read by the collector.
  alignas(64) std::atomic<uint64_t> pending;  // 0, or a PendingMark
  std::atomic<uint64_t> head;                 // words published, ever
  std::atomic<uint64_t> last_key;             // the key of the last published record
  uint64_t last_writer;  // writer only: (instance << 32 | tid) of the last record's writer
  // Written by the collector: words consumed, ever.
  alignas(64) std::atomic<uint64_t> tail;
  // Written when a thread claims the ring, retires it, and when the collector frees it.
  alignas(64) std::atomic<uint64_t> owner;  // an OwnerWord
};
static_assert(sizeof(ThreadRingHeader) == 192, "part of the shared-memory ABI");

// ThreadRingHeader::pending while a record is in progress: the writer's pid and tid, whether it
// is inside the call (free, munmap: the record was started before it), and the low bits of the
// head when the record was started, so that the collector can tell a writer that died before
// publishing from one that died just after.
namespace pending_mark {
inline constexpr uint64_t kInsideCall = uint64_t{1} << 19;
inline constexpr uint64_t kHeadMask = kInsideCall - 1;
// pid and tid are below 2^22 (PID_MAX_LIMIT).
constexpr uint64_t Make(uint32_t pid, uint32_t tid, bool inside_call, uint64_t head) {
  return uint64_t{pid} << 42 | uint64_t{tid & 0x3FFFFF} << 20 | (inside_call ? kInsideCall : 0) |
         (head & kHeadMask);
}
constexpr uint32_t Pid(uint64_t mark) { return static_cast<uint32_t>(mark >> 42); }
constexpr uint32_t Tid(uint64_t mark) { return static_cast<uint32_t>(mark >> 20) & 0x3FFFFF; }
constexpr bool InsideCall(uint64_t mark) { return (mark & kInsideCall) != 0; }
// Whether the record this mark announced was published by the time the head reads `head`.
constexpr bool Published(uint64_t mark, uint64_t head) { return ((head ^ mark) & kHeadMask) != 0; }
}  // namespace pending_mark

// ThreadRingHeader::owner: 0 for a free ring; kShared for a shared ring; else the owning
// thread's (pid << 32 | tid), with kRetired once that thread has exited and written its last
// record. The collector frees a retired (or dead) owner's ring once it has read it all.
namespace owner_word {
inline constexpr uint64_t kShared = uint64_t{1} << 62;
inline constexpr uint64_t kRetired = uint64_t{1} << 63;
constexpr uint64_t Make(uint32_t pid, uint32_t tid) { return uint64_t{pid} << 32 | tid; }
constexpr uint32_t Pid(uint64_t w) { return static_cast<uint32_t>(w >> 32) & 0x3FFFFFFF; }
constexpr uint32_t Tid(uint64_t w) { return static_cast<uint32_t>(w); }
}  // namespace owner_word

// Where one ring lives in this process's mapping of the segment.
struct RingView {
  ThreadRingHeader* header = nullptr;
  uint64_t* data = nullptr;
  uint64_t mask = 0;  // ring words - 1

  uint64_t capacity() const { return mask + 1; }
  uint64_t Word(uint64_t position) const { return data[position & mask]; }
  void Put(uint64_t position, uint64_t word) const { data[position & mask] = word; }
};

// Waits while the ring is full, in growing steps: pause, then sched_yield, then 50 us sleeps.
// Async-signal-safe.
void PauseWhileFull(uint32_t round);

// Writer side. REQUIRES: the caller is the ring's one writer (its owner, or the holder of a
// shared ring's lock). Returns true once `words` more words fit after `head`, updating *limit
// (how far head may go before the tail must be read again); waits while the ring is full and
// returns false if give_up() says so meanwhile (checked every 1024 rounds).
template <typename GiveUp>
bool WaitForSpace(const RingView& ring, uint64_t head, unsigned words, uint64_t* limit,
                  GiveUp&& give_up) {
  for (uint32_t round = 0;; ++round) {
    *limit = ring.header->tail.load(std::memory_order_acquire) + ring.capacity();
    if (head + words <= *limit) return true;
    if ((round & 1023) == 1023 && give_up()) return false;
    PauseWhileFull(round);
  }
}

// Sets the pending mark of a record the caller is about to key. The key must be read after the
// mark is ordered before it: in kFencePerRecord mode by an atomic exchange here (a full fence),
// in kFenceMembarrier mode by the collector's membarrier (record_merger.h), so a plain store.
inline void MarkPending(const RingView& ring, uint64_t mark, bool fence_per_record) {
  if (__builtin_expect(fence_per_record, 0)) {
    ring.header->pending.exchange(mark, std::memory_order_seq_cst);
  } else {
    ring.header->pending.store(mark, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
}

// Writes one record (wire_protocol.h) at `at`; returns its length in words. REQUIRES: room for
// kRecordHeaderWords + n + 1 words.
inline unsigned PutRecord(const RingView& ring, uint64_t at, uint64_t key, uint8_t op,
                          uint32_t error, uint64_t latency, const uint64_t* payload, unsigned n) {
  const bool long_latency = latency >= kLatencyInPayload;
  ring.Put(at, key);
  ring.Put(at + 1,
           RecordHeaderWord(op, n + long_latency, error,
                            long_latency ? kLatencyInPayload : static_cast<uint32_t>(latency)));
  for (unsigned i = 0; i < n; ++i) ring.Put(at + 2 + i, payload[i]);
  if (long_latency) ring.Put(at + 2 + n, latency);
  return kRecordHeaderWords + n + long_latency;
}

// Makes a record of `words` words, written at [head, head + words), readable. REQUIRES: the
// caller set `pending` for it and is the ring's one writer. Clearing `pending` last is what
// tells the collector that the record is visible (it reads pending, then head).
inline void Publish(const RingView& ring, uint64_t head, unsigned words, uint64_t key) {
  ring.header->last_key.store(key, std::memory_order_relaxed);
  ring.header->head.store(head + words, std::memory_order_release);
  ring.header->pending.store(0, std::memory_order_release);
}

}  // namespace vmreplay::recorder
