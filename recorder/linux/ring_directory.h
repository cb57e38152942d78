// The rings of a session segment (wire_protocol.h): where each one is in this process's
// mapping, and how a thread claims one of its own.
//
// Rings [0, ring_count) are owned: a thread claims a free one at its first record and keeps it
// until it exits. Rings [ring_count, ring_count + shared_ring_count) are shared, for threads
// that found every owned ring taken (or whose own ring was retired at exit): they are locked
// per record. Claiming uses one compare-and-swap on a free ring's owner word; nothing here
// allocates or blocks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "recorder/linux/thread_ring.h"
#include "recorder/linux/wire_protocol.h"

namespace vmreplay::recorder {

class RingDirectory {
 public:
  // Bytes of segment a session with these rings needs, header included. REQUIRES: ring_words
  // is a power of two.
  static uint64_t SegmentBytesFor(uint32_t rings, uint32_t shared, uint64_t ring_words);

  // The ring size (in words, a power of two) to use so that a session's rings fit in half of
  // `available` bytes of shared memory: pages of a POSIX shared memory object are allocated as
  // the rings fill, and a program that touches one past the file system's limit gets SIGBUS
  // (Docker's /dev/shm is 64 MiB by default). Halves `ring_words` until they fit, down to
  // kMinFittedRingWords.
  static uint64_t RingWordsThatFit(uint64_t available, uint32_t rings, uint32_t shared,
                                   uint64_t ring_words);
  static constexpr uint64_t kMinFittedRingWords = 8192;  // 64 KiB

  // Collector: lays the rings out in a zero-filled segment of `bytes` bytes (a new shared
  // memory object reads as zeros) and fills the session header's ring fields. Returns false if
  // they do not fit or ring_words is not a power of two >= kMinRingWords.
  static bool Format(SessionHeader* session, size_t bytes, uint32_t rings, uint32_t shared,
                     uint64_t ring_words);
  static constexpr uint64_t kMinRingWords = 64;

  // Both sides: a view of the formatted segment mapped at `session`. False if the header's ring
  // fields do not fit `bytes` (a segment that is not ours, or damaged).
  bool Attach(SessionHeader* session, size_t bytes);

  RingView Ring(uint32_t index) const {
    return RingView{&headers_[index], data_ + uint64_t{index} * ring_words_, ring_words_ - 1};
  }
  uint32_t ring_count() const { return ring_count_; }
  uint32_t shared_ring_count() const { return shared_count_; }
  uint32_t total_rings() const { return ring_count_ + shared_count_; }
  bool IsShared(uint32_t index) const { return index >= ring_count_; }
  // One past the highest owned ring ever claimed (acquire).
  uint32_t RingsUsed() const { return session_->rings_used.load(std::memory_order_acquire); }

  // Claims a free owned ring for thread `tid` of process `pid`. Returns its index, or -1 if
  // every owned ring is taken.
  int Claim(uint32_t pid, uint32_t tid);
  // The shared ring a thread without a ring of its own writes to.
  uint32_t SharedIndexFor(uint32_t tid) const { return ring_count_ + tid % shared_count_; }

 private:
  SessionHeader* session_ = nullptr;
  ThreadRingHeader* headers_ = nullptr;
  uint64_t* data_ = nullptr;
  uint64_t ring_words_ = 0;
  uint32_t ring_count_ = 0;
  uint32_t shared_count_ = 0;
};

}  // namespace vmreplay::recorder
