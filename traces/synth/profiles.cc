#include "traces/synth/profiles.h"

#include <algorithm>
#include <vector>

#include "simulator/win32_constants.h"
#include "traces/synth/gc_heap.h"
#include "traces/synth/host_heaps.h"
#include "traces/synth/page_math.h"

namespace vmreplay::synth {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kQuantumNs = 1'000'000;  // one scheduling quantum of a mutator
constexpr uint64_t kPollNs = 250'000'000;   // GetMemoryLoad timer of the finalizer thread
constexpr double kAllocBytesPerNs = 0.2;    // 200 MB/s of small objects across the process
constexpr uint64_t kLargeObjectMin = 85'000;

// Runtime start-up, all eProcessCritical: the host malloc and the notification callback, the
// first code heap (executable), then the start-up JIT and type-load burst.
void StartUp(ClrProcess* p, HostHeaps* host) {
  p->CreateMalloc(kMainThread);
  p->RegisterMemoryNotificationCallback(kMainThread);
  const uint64_t code = p->Reserve(kMainThread, 256 * 1024, win32::kPageReadWrite, p->Level());
  if (code != 0) {
    p->Commit(kMainThread, code, 64 * 1024, win32::kPageExecuteReadWrite, p->Level());
  }
  host->Step(p, kMainThread, 20'000'000);
}

int GenerationFor(uint64_t collection) {
  if (collection % 20 == 19) return 2;
  if (collection % 5 == 4) return 1;
  return 0;
}

uint64_t LargeObjectSize(Random& r) {
  return std::clamp<uint64_t>(static_cast<uint64_t>(r.LogNormal(400'000.0, 1.0)), kLargeObjectMin,
                              32 * kMiB);
}

}  // namespace

uint64_t PhysicalMemoryFor(const SynthOptions& o) {
  // The pressure profile runs in a machine (or job object) sized to its heap so that it can
  // reach the Low threshold; the others in a 16 GiB machine.
  if (o.profile == Profile::kPressure) return o.heap_mb * kMiB;
  // The linux profiles: the machine the real recordings they are fitted to were made on.
  if (o.profile == Profile::kLinuxWorkstation || o.profile == Profile::kLinuxServer) {
    return 24105ull * kMiB;
  }
  return 16ull << 30;
}

void RunWorkstationGc(const SynthOptions& o, ClrProcess* p) {
  Random& r = p->rng();
  HostHeapShape host_shape;
  host_shape.loader_blocks_max = o.loader_blocks_max;
  HostHeaps host(host_shape);
  StartUp(p, &host);
  GcHeapConfig c;
  c.segment_size = GranuleUp(std::max<uint64_t>(256 * kMiB, 2 * o.heap_mb * kMiB));
  c.gen0_budget = std::clamp<uint64_t>(o.heap_mb * kMiB / 32, 2 * kMiB, 64 * kMiB);
  c.commit_step = GranuleUp(c.gen0_budget / 8);
  c.target_live = o.heap_mb * kMiB * 6 / 10;
  c.loh_live_limit = o.heap_mb * kMiB * 3 / 10;
  GcHeap heap(c);
  if (!heap.Init(p, kMainThread)) return;
  p->StartupComplete();
  uint64_t next_poll = p->now() + kPollNs;
  while (!p->done()) {
    const uint64_t tid = MutatorThread(static_cast<uint32_t>(r.Range(0, o.threads - 1)));
    const auto bytes = static_cast<uint64_t>(kAllocBytesPerNs * kQuantumNs * r.LogNormal(1, 0.3));
    const bool collect = heap.Allocate(p, tid, bytes);
    if (r.Chance(0.02)) heap.AllocateLarge(p, tid, LargeObjectSize(r), r.Range(0, 3));
    host.Step(p, tid, kQuantumNs);
    if (collect) {
      p->GetMemoryLoad(tid);  // the GC's first question: how loaded is the machine?
      heap.Collect(p, tid, GenerationFor(heap.collections()), kBackgroundGcThread);
    }
    if (p->now() >= next_poll) {
      p->GetMemoryLoad(kFinalizerThread);
      next_poll += kPollNs;
    }
    p->Sleep(kQuantumNs);
  }
}

void RunServerGc(const SynthOptions& o, ClrProcess* p) {
  Random& r = p->rng();
  HostHeapShape host_shape;
  host_shape.loader_blocks_max = o.loader_blocks_max;
  HostHeaps host(host_shape);
  StartUp(p, &host);
  const uint32_t n = o.threads;
  GcHeapConfig c;
  const uint64_t per_heap = o.heap_mb * kMiB / n;
  c.segment_size = GranuleUp(std::max<uint64_t>(64 * kMiB, 2 * per_heap) + 0xFFFFFF) &
                   ~uint64_t{0xFFFFFF};  // 16 MiB multiple
  c.gen0_budget = std::clamp<uint64_t>(per_heap / 16, 2 * kMiB, 64 * kMiB);
  c.commit_step = GranuleUp(c.gen0_budget / 4);
  c.target_live = per_heap * 6 / 10;
  c.loh_live_limit = per_heap * 3 / 10;
  std::vector<GcHeap> heaps(n, GcHeap(c));
  // Server GC creates one heap per GC thread at start-up, each on its own thread.
  for (uint32_t i = 0; i < n; ++i) {
    if (!heaps[i].Init(p, GcThread(i))) return;
  }
  p->StartupComplete();
  uint64_t next_poll = p->now() + kPollNs;
  uint64_t collections = 0;
  std::vector<uint32_t> order(n);
  while (!p->done()) {
    const uint32_t i = static_cast<uint32_t>(r.Range(0, n - 1));
    const uint64_t tid = MutatorThread(i);
    const auto bytes = static_cast<uint64_t>(kAllocBytesPerNs * kQuantumNs * r.LogNormal(1, 0.3));
    const bool collect = heaps[i].Allocate(p, tid, bytes);
    if (r.Chance(0.02)) heaps[i].AllocateLarge(p, tid, LargeObjectSize(r), r.Range(0, 3));
    host.Step(p, tid, kQuantumNs);
    if (collect) {
      // A server collection runs on every heap's GC thread at once; their calls interleave.
      p->GetMemoryLoad(GcThread(0));
      const int gen = GenerationFor(collections++);
      for (uint32_t k = 0; k < n; ++k) order[k] = k;
      for (uint32_t k = n; k > 1; --k) std::swap(order[k - 1], order[r.Range(0, k - 1)]);
      for (uint32_t k : order) heaps[k].Collect(p, GcThread(k), gen, GcThread(k));
    }
    if (p->now() >= next_poll) {
      p->GetMemoryLoad(kFinalizerThread);
      next_poll += kPollNs;
    }
    p->Sleep(kQuantumNs / n);
  }
}

void RunPressure(const SynthOptions& o, ClrProcess* p) {
  Random& r = p->rng();
  HostHeapShape host_shape;
  host_shape.loader_blocks_max = o.loader_blocks_max;
  HostHeaps host(host_shape);
  StartUp(p, &host);
  const uint64_t physical = p->physical_memory();
  GcHeapConfig c;
  c.segment_size = GranuleUp(2 * physical);
  c.gen0_budget = std::clamp<uint64_t>(physical / 32, 2 * kMiB, 64 * kMiB);
  c.commit_step = GranuleUp(c.gen0_budget / 8);
  c.gen0_survival = 0.35;    // a cache filling up: much of what is allocated stays
  c.target_live = physical;  // no compaction until the host says memory is low
  c.loh_live_limit = physical * 3 / 10;
  GcHeap heap(c);
  if (!heap.Init(p, kMainThread)) return;
  p->StartupComplete();
  const uint64_t poll_ns = 50'000'000;  // the cache manager polls the load every 50 ms
  uint64_t next_poll = p->now() + poll_ns;
  while (!p->done()) {
    const uint64_t tid = MutatorThread(static_cast<uint32_t>(r.Range(0, o.threads - 1)));
    const auto bytes = static_cast<uint64_t>(kAllocBytesPerNs * kQuantumNs * r.LogNormal(1, 0.3));
    const bool collect = heap.Allocate(p, tid, bytes);
    if (r.Chance(0.05)) heap.AllocateLarge(p, tid, LargeObjectSize(r), 1000);
    host.Step(p, tid, kQuantumNs);
    bool trim = p->pressure_state() == sim::MemoryAvailable::kLow;
    if (p->now() >= next_poll) {
      // GetMemoryLoad feeds the GC's decision: above 80% it collects gen1 early.
      const sim::MemoryLoad load = p->GetMemoryLoad(kFinalizerThread);
      next_poll += poll_ns;
      if (load.load_percent >= 90) trim = true;
      if (!trim && load.load_percent >= 80 && !collect) {
        heap.Collect(p, kFinalizerThread, 1, kBackgroundGcThread);
      }
    }
    if (trim) {
      // Low: the CLR finalizes eagerly, the application drops its caches, and a compacting
      // gen2 collection gives the memory back (a decommit and release burst).
      heap.Trim(physical * (10 + r.Range(0, 10)) / 100);
      heap.Collect(p, kFinalizerThread, 2, kBackgroundGcThread);
      heap.set_target_live(physical);
    } else if (collect) {
      p->GetMemoryLoad(tid);
      heap.Collect(p, tid, GenerationFor(heap.collections()), kBackgroundGcThread);
    }
    if (p->now() >= next_poll) next_poll = p->now() + poll_ns;
    p->Sleep(kQuantumNs);
  }
}

}  // namespace vmreplay::synth
