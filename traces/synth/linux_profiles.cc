// linux-workstation and linux-server: .NET 8+ on Linux as its recordings look once lifted to the
// calls the CLR makes (vmreplay lift --clr). Fitted to the bundled real recordings
// traces/clr/ws-regions-requests.pb and server-requests.pb (traces/synth/README.md has the
// figures and how far each synthetic one is from its real counterpart).
#include <algorithm>
#include <vector>

#include "simulator/win32_constants.h"
#include "traces/synth/host_heaps.h"
#include "traces/synth/page_math.h"
#include "traces/synth/profiles.h"
#include "traces/synth/regions_gc_heap.h"

namespace vmreplay::synth {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;
constexpr uint64_t kCodeView = 64 * 1024;  // ExecutableAllocator reserves 64 KiB views
constexpr uint64_t kQuantumNs = 1'000'000;
constexpr double kLargeObjectChance = 0.003;  // per quantum
constexpr double kLargeObjectMedian = 1.0e6;

// The runtime's malloc traffic as recorded: a JIT and type-load burst at start-up, then what the
// tiered JIT and the runtime keep allocating; no 64 KiB arena pages, no DebugAlloc (the preload
// sees plain malloc), sizes with a median of 64 bytes and a 90th percentile near 500.
HostHeapShape LinuxHostHeaps() {
  HostHeapShape s;
  s.burst_methods_per_s = 15000.0;
  s.burst_time_constant_s = 0.15;
  s.steady_methods_per_s = 650.0;
  s.arena_pages_min = 0;
  s.arena_pages_max = 0;
  s.blocks_mean = 6.0;
  s.block_median = 64.0;
  s.block_sigma = 1.6;
  s.debug_alloc_share = 0.0;
  s.loader_lock_level = false;
  return s;
}

// Loader and code heaps in W^X code views: pages committed one at a time (now and then a few at
// once, for stubs), a new 64 KiB view reserved when the current one is full.
class CodeViews {
 public:
  void CommitFor(ClrProcess* p, uint64_t tid) {
    Random& r = p->rng();
    const uint64_t pages = r.Chance(0.08) ? r.Range(2, 8) : 1;
    if (base_ == 0 || used_ + pages * kPage > kCodeView) {
      base_ = p->Reserve(tid, kCodeView, win32::kPageNoAccess, p->Level());
      used_ = 0;
      if (base_ == 0) return;
    }
    const uint32_t protect = r.Chance(0.3) ? win32::kPageExecuteRead : win32::kPageReadWrite;
    p->Commit(tid, base_ + used_, pages * kPage, protect, p->Level());
    used_ += pages * kPage;
  }

 private:
  uint64_t base_ = 0;
  uint64_t used_ = 0;
};

int GenerationFor(uint64_t collection) {
  if (collection % 10 == 9) return 2;
  if (collection % 4 == 3) return 1;
  return 0;
}

}  // namespace

void RunLinuxRegions(const SynthOptions& o, bool server, ClrProcess* p) {
  Random& r = p->rng();
  HostHeapShape host_shape = LinuxHostHeaps();
  host_shape.loader_blocks_max = o.loader_blocks_max;
  HostHeaps host(host_shape);
  p->CreateMalloc(kMainThread);
  p->StartupComplete();  // the lifted calls carry no critical level
  const uint64_t physical = p->physical_memory();
  RegionsGcConfig c;
  // gc/interface.cpp GCHeap::Initialize: min (workstation) or max (server) of 256 GiB and 2 x RAM.
  c.range = server ? std::max(256 * kGiB, 2 * physical) : std::min(256 * kGiB, 2 * physical);
  c.heaps = server ? o.threads : 1;
  c.target_live = o.heap_mb * kMiB * 4 / 10;
  // Server GC gives back more, in smaller steps (decommit_step drains the global decommit list
  // between collections).
  c.free_regions_kept = server ? 0 : 1;
  c.decommit_median = (server ? 0.8 : 1.1) * kMiB;
  c.decommits_per_region = server ? 2 : 1;
  RegionsGcHeap heap(c);
  if (!heap.Init(p, kMainThread)) return;
  CodeViews code;
  std::vector<uint64_t> gc_threads;
  for (uint32_t k = 0; k < c.heaps; ++k) gc_threads.push_back(GcThread(k));
  uint64_t methods_seen = 0;
  const double alloc_bytes_per_ns = server ? 0.065 : 0.05;  // MB/s of small objects / 1000
  while (!p->done()) {
    const uint32_t i = static_cast<uint32_t>(r.Range(0, o.threads - 1));
    const uint64_t tid = MutatorThread(i);
    const auto bytes = static_cast<uint64_t>(alloc_bytes_per_ns * kQuantumNs * r.LogNormal(1, 0.5));
    const bool collect = heap.Allocate(p, tid, server ? i : 0, bytes);
    if (r.Chance(kLargeObjectChance)) {
      heap.AllocateLarge(p, tid, static_cast<uint64_t>(r.LogNormal(kLargeObjectMedian, 0.6)),
                         r.Range(0, 3));
    }
    host.Step(p, tid, kQuantumNs);
    for (; methods_seen < host.methods(); ++methods_seen) {
      if (r.Chance(0.2)) code.CommitFor(p, tid);
    }
    if (collect) {
      if (!server) gc_threads[0] = tid;
      heap.Collect(p, gc_threads, GenerationFor(heap.collections()));
    }
    p->Sleep(kQuantumNs);
  }
}

}  // namespace vmreplay::synth
