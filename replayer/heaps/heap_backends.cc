// The table of heap backends and the factory (one place to add a heap).
#include "replayer/heaps/heap_backends.h"

namespace vmreplay::replay {

std::vector<HeapBackendInfo> HeapBackends() {
  return {
      {"system", "the process's malloc (glibc)", true},
      {"boost", "Boost.Interprocess rbtree_best_fit over a fixed buffer (--heap-capacity)", true},
      {"jemalloc", "jemalloc via dlopen", !DlHeapLibrary("jemalloc").empty()},
      {"mimalloc", "mimalloc via dlopen", !DlHeapLibrary("mimalloc").empty()},
      {"tcmalloc", "tcmalloc (gperftools, minimal) via dlopen", !DlHeapLibrary("tcmalloc").empty()},
  };
}

Status MakeHeapBackend(std::string_view name, const HeapBackendOptions& options,
                       std::unique_ptr<HeapBackend>* out) {
  if (name == "system") {
    *out = MakeSystemHeap();
    return Status::Ok();
  }
  if (name == "boost") return MakeBoostHeap(options.capacity, out);
  if (name == "jemalloc" || name == "mimalloc" || name == "tcmalloc") return MakeDlHeap(name, out);
  return Status::Error("unknown heap '" + std::string(name) + "' (vmreplay backends lists them)");
}

}  // namespace vmreplay::replay
