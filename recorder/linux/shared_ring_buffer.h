// A multi-writer, single-reader ring of WireRecords in memory shared between processes.
//
// Guarantees:
//  - Writers never lock and never allocate: a writer reserves a position with one fetch_add
//    on the write cursor, claims the slot for that position, copies its record and commits it
//    by publishing the slot's sequence number (the scheme of Vyukov's bounded MPMC queue).
//  - Nothing is dropped while the reader keeps reading: a writer whose slot still holds an
//    unread record from the previous lap waits (spin, then yield, then short sleeps).
//  - The reader sees records in reservation order and only complete ones: a slot is readable
//    once its sequence number says "committed". A reserved slot that never gets committed
//    (its writer was killed) stalls the reader at that position; the reader can inspect the
//    stall and skip the slot (SkipStalled), which counts as a dropped record.
//  - Every field lives inside the region, so the ring works at different addresses in
//    different processes. All atomics used are lock-free (address-free).
//
// Slot sequence protocol, for the position p that maps to a slot on some lap. A slot stores
// its sequence relative to the lap's first position, lap(p) = p & ~(capacity - 1), so that an
// all-zero slot is a free slot of lap 0: formatting a zero-filled segment (a fresh shared
// memory object) writes only the ring header, and slot pages are faulted in when first used
// instead of all up front (64 MB took 60 ms to touch and 15 ms to unmap).
//   seq == lap(p)             free for the writer of p
//   seq == lap(p) | kClaimed  claimed by the writer of p, record being copied
//   seq == lap(p) + 1         committed, readable
//   seq == lap(p) + capacity  consumed (or skipped) by the reader: free for p + capacity
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "recorder/linux/wire_protocol.h"

namespace vmreplay::recorder {

class SharedRingBuffer {
 public:
  // Bytes a ring with `capacity` slots occupies. REQUIRES: capacity is a power of two >= 2.
  static size_t BytesFor(uint64_t capacity);
  // The largest power-of-two capacity that fits in `bytes` (0 if not even 2 slots fit).
  static uint64_t CapacityFor(size_t bytes);

  // Whether Initialize may assume the slot area is already all zero bytes.
  enum class Region { kAnyContent, kZeroFilled };
  // Formats `region` (aligned to 64 bytes, at least BytesFor(capacity) bytes) as an empty
  // ring. Returns nullptr if the arguments are unusable. Used by the creator only. With
  // kZeroFilled the slot area is not written at all (see the protocol above).
  static SharedRingBuffer* Initialize(void* region, size_t bytes, uint64_t capacity,
                                      Region content = Region::kAnyContent);
  // Returns the ring previously formatted in `region`, or nullptr if it is not one (bad magic,
  // version, or a size that does not fit `bytes`).
  static SharedRingBuffer* Attach(void* region, size_t bytes);

  // Writer side. Copies `record` into the ring, waiting while the ring is full. `owner_pid`
  // names the writing process for the reader's stall diagnosis. Returns false only if the
  // record could not be written: the reader skipped this writer's slot, or `give_up()` returned
  // true while waiting (the reader is gone). Safe from any thread of any attached process;
  // async-signal-safe.
  template <typename GiveUp>
  bool Write(const WireRecord& record, uint32_t owner_pid, GiveUp&& give_up);
  bool Write(const WireRecord& record, uint32_t owner_pid) {
    return Write(record, owner_pid, [] { return false; });
  }

  // Write in steps. Reserve takes the next position (the record's place in the reader's
  // order); Claim waits for its slot and marks it as this writer's (false: the slot was
  // skipped, or give_up() returned true); Commit copies the record in and makes it readable.
  // A writer may Reserve and Claim before the call it records and Commit after it, to order
  // the record before anything another thread does once the call has taken effect (see
  // hooks.cc); `inside_call` tells the reader, should the writer die before committing, that
  // the call never returned, so nothing was lost.
  uint64_t Reserve() { return write_cursor_.fetch_add(1, std::memory_order_relaxed); }
  template <typename GiveUp>
  bool Claim(uint64_t position, uint32_t owner_pid, bool inside_call, GiveUp&& give_up);
  void Commit(uint64_t position, const WireRecord& record, uint32_t owner_pid);
  template <typename GiveUp>
  bool ClaimAndCommit(uint64_t position, const WireRecord& record, uint32_t owner_pid,
                      GiveUp&& give_up) {
    if (!Claim(position, owner_pid, false, give_up)) return false;
    Commit(position, record, owner_pid);
    return true;
  }

  // Reader side (one reader at a time).
  enum class ReadResult { kRecord, kEmpty, kStalled };
  // kRecord: *out holds the next record. kEmpty: no position reserved past the read cursor.
  // kStalled: the next position is reserved but not yet committed.
  ReadResult TryRead(WireRecord* out);
  // For a stalled reader: the pid that claimed the stalled slot, or 0 if the slot was reserved
  // but not yet claimed (its writer is between Reserve and Claim).
  uint32_t StalledOwner() const;
  // For a stalled reader: whether the stalled slot was claimed with inside_call and its
  // writer has not yet returned from the call.
  bool StalledInsideCall() const;
  // Skips the stalled position so that reading continues after it; the slot is released for
  // the next lap. Returns false if the slot got committed meanwhile (read it instead).
  // Only call this when the owner can no longer commit (it is dead).
  bool SkipStalled();

  uint64_t capacity() const { return capacity_; }
  uint64_t read_position() const { return read_cursor_; }
  uint64_t write_position() const { return write_cursor_.load(std::memory_order_acquire); }
  uint64_t skipped() const { return skipped_; }

 private:
  static constexpr uint64_t kMagic = 0x474E495252444D56ull;  // "VMDRRING"
  static constexpr uint64_t kClaimed = uint64_t{1} << 63;
  // In Slot::claim_pid, above any pid (Linux pids stay below 2^22).
  static constexpr uint32_t kInsideCall = uint32_t{1} << 31;

  struct Slot {
    std::atomic<uint64_t> seq;
    std::atomic<uint32_t> claim_pid;  // set after claiming, cleared by the reader
    uint32_t reserved;
    WireRecord record;
  };
  static_assert(std::atomic<uint64_t>::is_always_lock_free);

  Slot* slots() { return reinterpret_cast<Slot*>(reinterpret_cast<char*>(this) + kHeaderBytes); }
  const Slot* slots() const {
    return reinterpret_cast<const Slot*>(reinterpret_cast<const char*>(this) + kHeaderBytes);
  }
  static void Pause(uint32_t round);

  static constexpr size_t kHeaderBytes = 192;

  uint64_t magic_;
  uint32_t version_;
  uint32_t slot_bytes_;
  uint64_t capacity_;
  uint64_t mask_;
  alignas(64) std::atomic<uint64_t> write_cursor_;
  // Reader-private state (single reader), on its own cache line.
  alignas(64) uint64_t read_cursor_;
  uint64_t skipped_;
};

template <typename GiveUp>
bool SharedRingBuffer::Claim(uint64_t position, uint32_t owner_pid, bool inside_call,
                             GiveUp&& give_up) {
  Slot& slot = slots()[position & mask_];
  const uint64_t lap = position & ~mask_;
  for (uint32_t round = 0;; ++round) {
    uint64_t seq = slot.seq.load(std::memory_order_acquire);
    if (seq == lap) {
      if (slot.seq.compare_exchange_weak(seq, lap | kClaimed, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
        break;
      }
      continue;  // the reader skipped us meanwhile, or a spurious failure
    }
    // Anything past our lap means the reader skipped this position.
    if ((seq & ~kClaimed) > lap) return false;
    // Still the previous lap's record: the ring is full; wait for the reader.
    if ((round & 1023) == 1023 && give_up()) return false;
    Pause(round);
  }
  slot.claim_pid.store(inside_call ? owner_pid | kInsideCall : owner_pid,
                       std::memory_order_relaxed);
  return true;
}

inline void SharedRingBuffer::Commit(uint64_t position, const WireRecord& record,
                                     uint32_t owner_pid) {
  Slot& slot = slots()[position & mask_];
  slot.claim_pid.store(owner_pid, std::memory_order_relaxed);  // returned from the call
  slot.record = record;
  slot.seq.store((position & ~mask_) + 1, std::memory_order_release);
}

template <typename GiveUp>
bool SharedRingBuffer::Write(const WireRecord& record, uint32_t owner_pid, GiveUp&& give_up) {
  return ClaimAndCommit(Reserve(), record, owner_pid, give_up);
}

}  // namespace vmreplay::recorder
