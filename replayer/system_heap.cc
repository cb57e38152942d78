// `system`: the process's malloc (glibc on Debian). Footprint: mallinfo2's arena + mmapped bytes,
// relative to the figure when the backend was created (the replayer's own allocations before the
// replay are excluded; those made during it are included, so it is approximate).
#include <malloc.h>

#include <cstdlib>

#include "replayer/heap_backends.h"

namespace vmreplay::replay {
namespace {

uint64_t MallinfoFootprint() {
  const struct mallinfo2 m = mallinfo2();
  return m.arena + m.hblkhd;
}

class SystemHeap final : public HeapBackend {
 public:
  SystemHeap() : baseline_(MallinfoFootprint()) {}
  std::string_view name() const override { return "system"; }
  void* Alloc(size_t size, size_t alignment) override {
    if (alignment == 0) return std::malloc(size);
    void* p = nullptr;
    return posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment, size) == 0
               ? p
               : nullptr;
  }
  void* Realloc(void* p, size_t, size_t size) override { return std::realloc(p, size); }
  void Free(void* p) override { std::free(p); }
  std::optional<uint64_t> Footprint() override {
    const uint64_t now = MallinfoFootprint();
    return now > baseline_ ? now - baseline_ : 0;
  }

 private:
  uint64_t baseline_;
};

}  // namespace

std::unique_ptr<HeapBackend> MakeSystemHeap() { return std::make_unique<SystemHeap>(); }

}  // namespace vmreplay::replay
