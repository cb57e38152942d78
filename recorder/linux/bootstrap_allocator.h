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
  static bool Owns(const void* p);
  // The size requested for a block Allocate returned (for realloc out of the buffer).
  static size_t SizeOf(const void* p);
};

}  // namespace vmreplay::recorder
