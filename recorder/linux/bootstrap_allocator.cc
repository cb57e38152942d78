#include "recorder/linux/bootstrap_allocator.h"

#include <atomic>
#include <cstdint>

namespace vmreplay::recorder {
namespace {

constexpr size_t kHeaderBytes = 16;  // holds the requested size just below each block

std::atomic<size_t> g_used{0};

}  // namespace

alignas(4096) unsigned char BootstrapAllocator::buffer_[kBufferBytes];

void* BootstrapAllocator::Allocate(size_t size, size_t alignment) {
  if (alignment < kHeaderBytes) alignment = kHeaderBytes;
  if (size > kBufferBytes) return nullptr;
  size_t used = g_used.load(std::memory_order_relaxed);
  for (;;) {
    const size_t block = (used + kHeaderBytes + alignment - 1) & ~(alignment - 1);
    const size_t end = block + ((size + kHeaderBytes - 1) & ~(kHeaderBytes - 1));
    if (end > kBufferBytes) return nullptr;
    if (g_used.compare_exchange_weak(used, end, std::memory_order_relaxed)) {
      *reinterpret_cast<size_t*>(buffer_ + block - kHeaderBytes) = size;
      return buffer_ + block;
    }
  }
}

size_t BootstrapAllocator::SizeOf(const void* p) {
  return *reinterpret_cast<const size_t*>(static_cast<const unsigned char*>(p) - kHeaderBytes);
}

}  // namespace vmreplay::recorder
