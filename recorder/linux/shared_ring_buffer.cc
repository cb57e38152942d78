#include "recorder/linux/shared_ring_buffer.h"

#include <sched.h>
#include <time.h>

#include <cstring>
#include <new>

namespace vmreplay::recorder {

size_t SharedRingBuffer::BytesFor(uint64_t capacity) {
  return kHeaderBytes + capacity * sizeof(Slot);
}

uint64_t SharedRingBuffer::CapacityFor(size_t bytes) {
  if (bytes < BytesFor(2)) return 0;
  uint64_t fit = (bytes - kHeaderBytes) / sizeof(Slot);
  uint64_t capacity = 2;
  while (capacity * 2 <= fit) capacity *= 2;
  return capacity;
}

SharedRingBuffer* SharedRingBuffer::Initialize(void* region, size_t bytes, uint64_t capacity,
                                               Region content) {
  static_assert(sizeof(SharedRingBuffer) <= kHeaderBytes);
  if (region == nullptr || reinterpret_cast<uintptr_t>(region) % 64 != 0) return nullptr;
  if (capacity < 2 || (capacity & (capacity - 1)) != 0 || BytesFor(capacity) > bytes) {
    return nullptr;
  }
  auto* ring = new (region) SharedRingBuffer();
  ring->version_ = kWireVersion;
  ring->slot_bytes_ = sizeof(Slot);
  ring->capacity_ = capacity;
  ring->mask_ = capacity - 1;
  ring->write_cursor_.store(0, std::memory_order_relaxed);
  ring->read_cursor_ = 0;
  ring->skipped_ = 0;
  // All-zero slots are free slots of lap 0 (seq 0, no claim).
  if (content != Region::kZeroFilled)
    std::memset(static_cast<void*>(ring->slots()), 0, capacity * sizeof(Slot));
  // Publish the magic last: an attacher that sees it sees a formatted ring.
  std::atomic_thread_fence(std::memory_order_release);
  ring->magic_ = kMagic;
  return ring;
}

SharedRingBuffer* SharedRingBuffer::Attach(void* region, size_t bytes) {
  if (region == nullptr || bytes < kHeaderBytes) return nullptr;
  auto* ring = static_cast<SharedRingBuffer*>(region);
  if (ring->magic_ != kMagic || ring->version_ != kWireVersion ||
      ring->slot_bytes_ != sizeof(Slot)) {
    return nullptr;
  }
  if (ring->capacity_ < 2 || (ring->capacity_ & ring->mask_) != 0 ||
      BytesFor(ring->capacity_) > bytes) {
    return nullptr;
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  return ring;
}

void SharedRingBuffer::Pause(uint32_t round) {
  if (round < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else if (round < 256) {
    sched_yield();
  } else {
    // The reader is behind by a whole ring: sleep briefly instead of burning a core that the
    // reader may need. nanosleep is a plain system call: no allocation, async-signal-safe.
    timespec ts{0, 50 * 1000};
    nanosleep(&ts, nullptr);
  }
}

SharedRingBuffer::ReadResult SharedRingBuffer::TryRead(WireRecord* out) {
  const uint64_t position = read_cursor_;
  Slot& slot = slots()[position & mask_];
  const uint64_t lap = position & ~mask_;
  const uint64_t seq = slot.seq.load(std::memory_order_acquire);
  if (seq == lap + 1) {
    *out = slot.record;
    slot.claim_pid.store(0, std::memory_order_relaxed);
    slot.seq.store(lap + capacity_, std::memory_order_release);
    read_cursor_ = position + 1;
    return ReadResult::kRecord;
  }
  if (write_cursor_.load(std::memory_order_acquire) > position) return ReadResult::kStalled;
  return ReadResult::kEmpty;
}

uint32_t SharedRingBuffer::StalledOwner() const {
  const Slot& slot = slots()[read_cursor_ & mask_];
  if (slot.seq.load(std::memory_order_acquire) != ((read_cursor_ & ~mask_) | kClaimed)) return 0;
  return slot.claim_pid.load(std::memory_order_relaxed) & ~kInsideCall;
}

bool SharedRingBuffer::StalledInsideCall() const {
  const Slot& slot = slots()[read_cursor_ & mask_];
  if (slot.seq.load(std::memory_order_acquire) != ((read_cursor_ & ~mask_) | kClaimed)) {
    return false;
  }
  return (slot.claim_pid.load(std::memory_order_relaxed) & kInsideCall) != 0;
}

bool SharedRingBuffer::SkipStalled() {
  const uint64_t position = read_cursor_;
  if (write_cursor_.load(std::memory_order_acquire) <= position) return false;
  Slot& slot = slots()[position & mask_];
  const uint64_t lap = position & ~mask_;
  uint64_t seq = slot.seq.load(std::memory_order_acquire);
  if (seq != lap && seq != (lap | kClaimed)) return false;  // committed meanwhile
  slot.claim_pid.store(0, std::memory_order_relaxed);
  if (!slot.seq.compare_exchange_strong(seq, lap + capacity_, std::memory_order_acq_rel)) {
    return false;
  }
  read_cursor_ = position + 1;
  ++skipped_;
  return true;
}

}  // namespace vmreplay::recorder
