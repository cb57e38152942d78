// `boost`: Boost.Interprocess managed_external_buffer (rbtree_best_fit: best fit over a red-black
// tree of free blocks, coalescing on free) over one fixed buffer of --heap-capacity bytes, mapped
// with MAP_NORESERVE so untouched capacity costs nothing. It never grows: allocations beyond the
// capacity fail (counted as divergences when the recording succeeded). Footprint: capacity minus
// the segment's free memory, i.e. bytes occupied including block headers and alignment.
// Thread-safe as threaded replay needs, with one mutex around every call: the segment itself
// locks nothing (null_mutex_family), and even with Boost's mutex_family get_free_memory() reads
// the allocator's counters unlocked (ThreadSanitizer reports it).
#include <sys/mman.h>

#include <boost/interprocess/managed_external_buffer.hpp>
#include <cstring>
#include <mutex>

#include "replayer/heaps/heap_backends.h"

namespace vmreplay::replay {
namespace {

namespace bip = boost::interprocess;

class BoostHeap final : public HeapBackend {
 public:
  BoostHeap(void* buffer, size_t capacity)
      : buffer_(buffer), capacity_(capacity), segment_(bip::create_only, buffer, capacity) {}
  ~BoostHeap() override { munmap(buffer_, capacity_); }
  std::string_view name() const override { return "boost"; }
  void* Alloc(size_t size, size_t alignment, uint32_t) override {
    std::lock_guard lock(mu_);
    return AllocLocked(size, alignment);
  }
  void* Realloc(void* p, size_t old_size, size_t size) override {
    std::lock_guard lock(mu_);
    void* q = AllocLocked(size, 0);
    if (q == nullptr) return nullptr;
    std::memcpy(q, p, old_size < size ? old_size : size);
    segment_.deallocate(p);
    return q;
  }
  void Free(void* p) override {
    std::lock_guard lock(mu_);
    if (p != nullptr) segment_.deallocate(p);
  }
  std::optional<uint64_t> Footprint() override {
    std::lock_guard lock(mu_);
    return capacity_ - segment_.get_free_memory();
  }

 private:
  void* AllocLocked(size_t size, size_t alignment) {
    if (size == 0) size = 1;
    if (alignment <= alignof(std::max_align_t)) return segment_.allocate(size, std::nothrow);
    return segment_.allocate_aligned(size, alignment, std::nothrow);
  }

  std::mutex mu_;
  void* buffer_;
  size_t capacity_;
  bip::managed_external_buffer segment_;
};

}  // namespace

Status MakeBoostHeap(uint64_t capacity, std::unique_ptr<HeapBackend>* out) {
  void* p = mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return Status::Error("boost heap: cannot map --heap-capacity bytes");
  *out = std::make_unique<BoostHeap>(p, capacity);
  return Status::Ok();
}

}  // namespace vmreplay::replay
