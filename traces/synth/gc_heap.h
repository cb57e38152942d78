// One CLR GC heap as the host's IHostMemoryManager sees it (segments GC, .NET Framework 4.x):
//  - Init: one reservation for the small-object segment (MEM_RESERVE, PAGE_READWRITE), its card
//    table reserved and committed, a first commit at the segment base, a VirtualQuery of the base.
//  - Allocation: the allocation pointer moves up; the committed end follows in `commit_step`
//    steps (VirtualAlloc MEM_COMMIT at the committed end).
//  - Large objects (LOH, >= 85,000 bytes): each one a separate reservation committed at once,
//    released (VirtualFree MEM_RELEASE) by the first gen2 collection after it dies.
//  - Collection: survivors of gen0 are promoted (compacted onto the end of the older data); a
//    gen2 collection also compacts the old data down toward `target_live`, brackets its marking
//    with VirtualProtect of the old data (PAGE_READONLY, then back to PAGE_READWRITE: write
//    watch), queries a live large object, and releases dead large objects. After every
//    collection the committed memory beyond the live data plus a small slack is decommitted.
#pragma once

#include <cstdint>
#include <vector>

#include "traces/synth/clr_process.h"

namespace vmreplay::synth {

struct GcHeapConfig {
  uint64_t segment_size = 256ull << 20;   // multiple of 64 KiB
  uint64_t gen0_budget = 6ull << 20;      // bytes allocated between two collections
  uint64_t commit_step = 1ull << 20;      // multiple of 64 KiB
  double gen0_survival = 0.08;            // fraction of gen0 that survives a collection
  uint64_t target_live = 128ull << 20;    // old data a gen2 collection compacts down toward
  uint64_t loh_live_limit = 64ull << 20;  // large-object bytes kept alive at most
};

class GcHeap {
 public:
  explicit GcHeap(const GcHeapConfig& config) : c_(config) {}

  // REQUIRES: called once, before anything else. False when the reservation failed.
  bool Init(ClrProcess* p, uint64_t tid);
  // Allocates `bytes` of small objects; returns true when the gen0 budget is used up (the caller
  // should collect).
  bool Allocate(ClrProcess* p, uint64_t tid, uint64_t bytes);
  // One large object with a lifetime drawn by the caller (in gen2 collections it survives).
  void AllocateLarge(ClrProcess* p, uint64_t tid, uint64_t bytes, uint32_t lifetime_gen2s);
  // A collection of generation `gen` (0, 1 or 2); `bgc_tid` does gen2's write-watch work.
  void Collect(ClrProcess* p, uint64_t tid, int gen, uint64_t bgc_tid);
  // Drop caches: every large object dies, old data is compacted down to `live` at the next gen2.
  void Trim(uint64_t live);

  void set_target_live(uint64_t v) { c_.target_live = v; }
  const GcHeapConfig& config() const { return c_; }
  uint64_t base() const { return base_; }
  uint64_t used() const { return used_; }
  uint64_t committed_end() const { return committed_end_; }
  uint64_t collections() const { return collections_; }
  uint64_t large_live_bytes() const { return large_live_bytes_; }

 private:
  struct Large {
    uint64_t base;
    uint64_t size;
    uint32_t gen2s_left;
  };
  void DecommitTail(ClrProcess* p, uint64_t tid);

  GcHeapConfig c_;
  uint64_t base_ = 0;           // segment reservation
  uint64_t used_ = 0;           // end of the compacted old data (bytes from base_)
  uint64_t alloc_ = 0;          // allocation pointer (bytes from base_)
  uint64_t committed_end_ = 0;  // bytes from base_
  uint64_t since_gc_ = 0;
  uint64_t collections_ = 0;
  std::vector<Large> large_;
  uint64_t large_live_bytes_ = 0;
};

}  // namespace vmreplay::synth
