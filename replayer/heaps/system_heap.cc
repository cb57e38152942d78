// `system`: the process's malloc (glibc on Debian). Its footprint is not reported: glibc's heap
// is shared with the replayer's own allocations and reuses memory the replayer freed before the
// replay, so no mallinfo2 figure measures the replayed heap alone (deltas of it came out below
// the live bytes). Heap fragmentation is therefore "n/a" for `system`; the other heap backends
// own their memory and report it.
#include <cstdlib>

#include "replayer/heaps/heap_backends.h"

namespace vmreplay::replay {
namespace {

class SystemHeap final : public HeapBackend {
 public:
  std::string_view name() const override { return "system"; }
  void* Alloc(size_t size, size_t alignment, uint32_t) override {
    if (alignment == 0) return std::malloc(size);
    void* p = nullptr;
    return posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment, size) == 0
               ? p
               : nullptr;
  }
  void* Realloc(void* p, size_t, size_t size) override { return std::realloc(p, size); }
  void Free(void* p) override { std::free(p); }
  std::optional<uint64_t> Footprint() override { return std::nullopt; }
};

}  // namespace

std::unique_ptr<HeapBackend> MakeSystemHeap() { return std::make_unique<SystemHeap>(); }

}  // namespace vmreplay::replay
