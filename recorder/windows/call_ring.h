// The in-process queue between the hooked calls and the trace writer.
//
// Guarantees: multi-writer, single-reader, bounded, lock-free; TryPush and TryPop never
// allocate and never block (the hooked path runs inside the CLR's allocator, so it must not
// allocate or take a lock the allocator might hold). Storage is allocated once, at
// construction. Records come out in the order their slots were claimed.
// Portable C++20 (no Windows API), so it is unit-tested on Linux too.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace vmreplay::win {

// Vyukov's bounded queue: each slot carries a sequence number saying whose turn it is.
template <typename T>
class CallRing {
 public:
  // REQUIRES: capacity is a power of two, >= 2.
  explicit CallRing(size_t capacity) : mask_(capacity - 1), slots_(new Slot[capacity]) {
    for (size_t i = 0; i < capacity; ++i) slots_[i].sequence.store(i, std::memory_order_relaxed);
  }
  CallRing(const CallRing&) = delete;
  CallRing& operator=(const CallRing&) = delete;

  size_t capacity() const { return mask_ + 1; }

  // Any thread. Returns false when the ring is full (the caller decides to wait or drop).
  bool TryPush(const T& value) {
    uint64_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & mask_];
      const uint64_t seq = slot.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<int64_t>(seq - pos);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          slot.value = value;
          slot.sequence.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // the reader has not consumed this slot's previous record yet
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  // The single reader only. Returns false when the next record is not yet complete.
  bool TryPop(T* out) {
    Slot& slot = slots_[tail_ & mask_];
    if (slot.sequence.load(std::memory_order_acquire) != tail_ + 1) return false;
    *out = slot.value;
    slot.sequence.store(tail_ + mask_ + 1, std::memory_order_release);
    ++tail_;
    return true;
  }

 private:
  struct Slot {
    std::atomic<uint64_t> sequence{0};
    T value{};
  };
  const uint64_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) uint64_t tail_ = 0;
};

}  // namespace vmreplay::win
