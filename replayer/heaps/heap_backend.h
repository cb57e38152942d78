// The heap level of a replay: what IHostMemoryManager::CreateMalloc hands the CLR (IHostMalloc:
// Alloc / DebugAlloc / Free), and the malloc family of Linux traces, on one allocator. One heap
// per file (system_heap, boost_heap, dl_heap); MakeHeapBackend builds one by name. A manager
// (managers/manager.h) may wrap the heap with its own policy (a budget).
//
// Contract: Alloc returns nullptr on failure; Free(nullptr) is a no-op; the engine frees only
// pointers this backend returned. Footprint is what the allocator took from the level below
// (bytes), or nullopt when the allocator cannot tell ("n/a" in reports). Thread-safe: threaded
// replay (engine/threaded_replay.h) calls every method from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/status.h"

namespace vmreplay::replay {

class HeapBackend {
 public:
  virtual ~HeapBackend() = default;
  virtual std::string_view name() const = 0;
  // alignment 0 = the allocator's default alignment. REQUIRES: alignment a power of two.
  // `level`: the call's EMemoryCriticalLevel (IHostMalloc::Alloc; 0 = eTaskCritical for the
  // malloc family, which has none); only a manager's policy looks at it.
  virtual void* Alloc(size_t size, size_t alignment, uint32_t level) = 0;
  // realloc semantics (nullptr on failure, p then still valid); REQUIRES: p != nullptr and
  // returned by this backend, old_size its requested size, size > 0.
  virtual void* Realloc(void* p, size_t old_size, size_t size) = 0;
  virtual void Free(void* p) = 0;
  virtual std::optional<uint64_t> Footprint() = 0;
};

struct HeapBackendOptions {
  uint64_t capacity = 1ull << 30;  // boost: fixed size of the managed buffer
};

struct HeapBackendInfo {
  std::string_view name;
  std::string_view summary;
  bool available = true;  // false when the allocator was not found at configure/run time
};
std::vector<HeapBackendInfo> HeapBackends();
Status MakeHeapBackend(std::string_view name, const HeapBackendOptions& options,
                       std::unique_ptr<HeapBackend>* out);

}  // namespace vmreplay::replay
