// The regions GC of .NET 8+ as a host sees it once its Linux calls are lifted (vmreplay lift
// --clr; the shape below is what the bundled real recordings in traces/clr show):
//  - Init: the whole regions range reserved up front (workstation min(256 GiB, 2 x RAM), server
//    max(256 GiB, 2 x RAM): gc/interface.cpp GCHeap::Initialize), the bookkeeping reservation
//    (card table, brick table, mark array: ~1/110 of the range) with its first commits, and a
//    64 KiB handle-table segment.
//  - Allocation fills 4 MiB regions, committing 64 KiB at a time at a region's committed end.
//  - Large objects take regions of their own, rounded up to the region size, committed at once.
//  - A collection keeps the survivors' regions, puts the others on the free list with their
//    commit, keeps a few committed free regions and decommits the end of the others' commit (one
//    call per region); a gen2 collection also frees dead large-object regions.
#pragma once

#include <cstdint>
#include <vector>

#include "traces/synth/clr_process.h"

namespace vmreplay::synth {

struct RegionsGcConfig {
  uint64_t range = 32ull << 30;        // the regions range reservation
  uint64_t region_size = 4ull << 20;   // gc region size (GCRegionSize default)
  uint64_t commit_step = 64ull << 10;  // committed ahead of allocation, 16 pages
  uint64_t gen0_budget = 16ull << 20;  // GCGen0MaxBudget as the runtime printed it
  double survival = 0.12;              // share of a gen0's bytes that survive it
  uint64_t target_live = 96ull << 20;  // old data a gen2 compacts down toward
  uint32_t free_regions_kept = 6;      // committed free regions a collection keeps
  double decommit_median = 1 << 20;    // what a surplus free region gives back at a time
  uint32_t decommits_per_region = 1;   // times it does so in one collection
  uint32_t heaps = 1;                  // server GC: one allocation cursor per heap
};

class RegionsGcHeap {
 public:
  explicit RegionsGcHeap(const RegionsGcConfig& config) : c_(config) {}

  // REQUIRES: called once, first. False when the range could not be reserved.
  bool Init(ClrProcess* p, uint64_t tid);
  // Allocates `bytes` of small objects on heap `heap`; true when its gen0 budget is used up.
  bool Allocate(ClrProcess* p, uint64_t tid, uint32_t heap, uint64_t bytes);
  // A large object living for `lifetime_gen2s` gen2 collections.
  void AllocateLarge(ClrProcess* p, uint64_t tid, uint64_t bytes, uint32_t lifetime_gen2s);
  // A collection of every heap, on `gc_threads` (one per heap: the allocating thread on
  // workstation GC, each heap's GC thread on server GC).
  void Collect(ClrProcess* p, const std::vector<uint64_t>& gc_threads, int gen);

  uint64_t collections() const { return collections_; }

 private:
  struct Region {
    uint64_t base = 0;
    uint64_t size = 0;        // region_size, or a large object's multiple of it
    uint64_t committed = 0;   // bytes from base
    uint64_t used = 0;        // bytes from base
    uint32_t gen2s_left = 0;  // large objects
  };
  // A region for allocation: a committed free one if any, else fresh space of the range.
  Region TakeRegion(uint64_t size);
  void Free(ClrProcess* p, uint64_t tid, Region r, bool keep_committed);

  RegionsGcConfig c_;
  uint64_t range_base_ = 0;
  uint64_t fresh_ = 0;  // bytes of the range handed out so far
  std::vector<Region> free_;
  std::vector<Region> current_;  // per heap
  std::vector<uint64_t> since_gc_;
  std::vector<Region> gen0_, old_, large_;
  uint64_t collections_ = 0;
};

}  // namespace vmreplay::synth
