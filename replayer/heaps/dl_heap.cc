// `jemalloc`, `mimalloc`, `tcmalloc`: a well-known allocator loaded with dlopen(RTLD_NOW |
// RTLD_LOCAL) and called through dlsym, so it serves only the replayed heap and never replaces
// the process's malloc (RTLD_LOCAL keeps its malloc out of global symbol resolution).
// Footprint, from each allocator's statistics API:
//   mimalloc  mi_process_info current_commit (bytes mimalloc has committed from the OS)
//   jemalloc  mallctl "stats.mapped" after an "epoch" refresh
//   tcmalloc  MallocExtension_GetNumericProperty "generic.heap_size"
#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "replayer/heaps/heap_backends.h"

#ifndef VMREPLAY_MIMALLOC_PATH
#define VMREPLAY_MIMALLOC_PATH ""
#endif
#ifndef VMREPLAY_JEMALLOC_PATH
#define VMREPLAY_JEMALLOC_PATH ""
#endif
#ifndef VMREPLAY_TCMALLOC_PATH
#define VMREPLAY_TCMALLOC_PATH ""
#endif

namespace vmreplay::replay {
namespace {

using MallocFn = void* (*)(size_t);
using AlignedFn = void* (*)(size_t, size_t);  // (alignment, size) as memalign
using ReallocFn = void* (*)(void*, size_t);
using FreeFn = void (*)(void*);

struct Symbols {
  const char* malloc;
  const char* memalign;
  const char* realloc;
  const char* free;
};

Symbols SymbolsOf(std::string_view name) {
  if (name == "mimalloc") return {"mi_malloc", nullptr, "mi_realloc", "mi_free"};
  if (name == "tcmalloc") return {"tc_malloc", "tc_memalign", "tc_realloc", "tc_free"};
  return {"malloc", "memalign", "realloc", "free"};  // jemalloc: unprefixed in Debian's build
}

class DlHeap final : public HeapBackend {
 public:
  DlHeap(std::string name, void* handle) : name_(std::move(name)), handle_(handle) {
    const Symbols s = SymbolsOf(name_);
    malloc_ = reinterpret_cast<MallocFn>(dlsym(handle, s.malloc));
    realloc_ = reinterpret_cast<ReallocFn>(dlsym(handle, s.realloc));
    free_ = reinterpret_cast<FreeFn>(dlsym(handle, s.free));
    if (s.memalign != nullptr) memalign_ = reinterpret_cast<AlignedFn>(dlsym(handle, s.memalign));
    if (name_ == "mimalloc") {
      mi_malloc_aligned_ = reinterpret_cast<AlignedFn>(dlsym(handle, "mi_malloc_aligned"));
      mi_process_info_ = dlsym(handle, "mi_process_info");
    } else if (name_ == "jemalloc") {
      mallctl_ = dlsym(handle, "mallctl");
    } else {
      tc_property_ = dlsym(handle, "MallocExtension_GetNumericProperty");
    }
  }
  // The library stays loaded: allocators do not support being unloaded.
  bool ok() const { return malloc_ && realloc_ && free_; }
  std::string_view name() const override { return name_; }
  void* Alloc(size_t size, size_t alignment, uint32_t) override {
    if (alignment == 0) return malloc_(size);
    if (mi_malloc_aligned_) return mi_malloc_aligned_(size, alignment);  // (size, alignment)
    if (memalign_) return memalign_(alignment, size);
    return nullptr;
  }
  void* Realloc(void* p, size_t, size_t size) override { return realloc_(p, size); }
  void Free(void* p) override { free_(p); }
  std::optional<uint64_t> Footprint() override {
    if (mi_process_info_) {
      using InfoFn =
          void (*)(size_t*, size_t*, size_t*, size_t*, size_t*, size_t*, size_t*, size_t*);
      size_t v[8] = {};
      reinterpret_cast<InfoFn>(mi_process_info_)(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                                                 &v[7]);
      return v[5];  // current_commit
    }
    if (mallctl_) {
      using MallctlFn = int (*)(const char*, void*, size_t*, void*, size_t);
      auto mallctl = reinterpret_cast<MallctlFn>(mallctl_);
      uint64_t epoch = 1;
      size_t len = sizeof epoch;
      mallctl("epoch", &epoch, &len, &epoch, len);
      size_t mapped = 0;
      len = sizeof mapped;
      if (mallctl("stats.mapped", &mapped, &len, nullptr, 0) == 0) return mapped;
      return std::nullopt;
    }
    if (tc_property_) {
      using PropFn = int (*)(const char*, size_t*);
      size_t value = 0;
      if (reinterpret_cast<PropFn>(tc_property_)("generic.heap_size", &value)) return value;
    }
    return std::nullopt;
  }

 private:
  std::string name_;
  void* handle_;
  MallocFn malloc_ = nullptr;
  AlignedFn memalign_ = nullptr;
  AlignedFn mi_malloc_aligned_ = nullptr;
  ReallocFn realloc_ = nullptr;
  FreeFn free_ = nullptr;
  void* mi_process_info_ = nullptr;
  void* mallctl_ = nullptr;
  void* tc_property_ = nullptr;
};

}  // namespace

std::string_view DlHeapLibrary(std::string_view name) {
  if (name == "mimalloc") return VMREPLAY_MIMALLOC_PATH;
  if (name == "jemalloc") return VMREPLAY_JEMALLOC_PATH;
  if (name == "tcmalloc") return VMREPLAY_TCMALLOC_PATH;
  return "";
}

Status MakeDlHeap(std::string_view name, std::unique_ptr<HeapBackend>* out) {
  const std::string path(DlHeapLibrary(name));
  if (path.empty()) {
    return Status::Error(std::string(name) +
                         ": not found at configure time (install its -dev "
                         "package and reconfigure)");
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return Status::Error(std::string(name) + ": " + dlerror());
  auto heap = std::make_unique<DlHeap>(std::string(name), handle);
  if (!heap->ok()) return Status::Error(std::string(name) + ": missing symbols in " + path);
  *out = std::move(heap);
  return Status::Ok();
}

}  // namespace vmreplay::replay
