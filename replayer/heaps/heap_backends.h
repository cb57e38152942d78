// Constructors of the heap backends, one per file; heap_backend.h has the interface and the
// name-based factory.
#pragma once

#include <memory>
#include <string_view>

#include "replayer/heaps/heap_backend.h"

namespace vmreplay::replay {

std::unique_ptr<HeapBackend> MakeSystemHeap();
Status MakeBoostHeap(uint64_t capacity, std::unique_ptr<HeapBackend>* out);
// jemalloc, mimalloc, tcmalloc: loaded with dlopen(RTLD_LOCAL) so the process's own malloc is
// never replaced. Error when the library was not found at configure time or does not load.
Status MakeDlHeap(std::string_view name, std::unique_ptr<HeapBackend>* out);
// Path of the shared library for `name` found at configure time, or "" when absent.
std::string_view DlHeapLibrary(std::string_view name);

}  // namespace vmreplay::replay
