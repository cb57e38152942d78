// Memory for the allocations made while the preload library is still resolving the real
// allocator (dlsym(RTLD_NEXT, ...) itself calls calloc/malloc).
//
// Contract: a bump allocator over a static buffer. Thread-safe and lock-free; never calls
// anything. Blocks are never reused, so they come zeroed (calloc needs nothing more). Freeing
// a bootstrap block is a no-op: callers must test Owns() and must never hand such a pointer
// to the real free or realloc.
#pragma once

#include <cstddef>

namespace vmreplay::recorder {

class BootstrapAllocator {
 public:
  // Returns nullptr when the buffer is exhausted. `alignment` must be a power of two.
  static void* Allocate(size_t size, size_t alignment = 16);
  // Inline: free asks it of every pointer.
  static bool Owns(const void* p) {
    const auto* c = static_cast<const unsigned char*>(p);
    return c >= buffer_ && c < buffer_ + kBufferBytes;
  }
  // The size requested for a block Allocate returned (for realloc out of the buffer).
  static size_t SizeOf(const void* p);

 private:
  // dlsym's needs are a few hundred bytes; this leaves ample room.
  static constexpr size_t kBufferBytes = 128 * 1024;
  static unsigned char buffer_[kBufferBytes];
};

}  // namespace vmreplay::recorder
