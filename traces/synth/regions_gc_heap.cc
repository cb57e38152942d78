#include "traces/synth/regions_gc_heap.h"

#include <algorithm>

#include "simulator/win32_constants.h"
#include "traces/synth/page_math.h"

namespace vmreplay::synth {
namespace {

constexpr uint64_t kBookkeepingShare = 110;     // range / bookkeeping reservation, as recorded
constexpr uint64_t kBookkeepingCommits = 6;     // its first commits (card, brick, mark ... tables)
constexpr uint64_t kBookkeepingCommit = 40960;  // each, as recorded

}  // namespace

bool RegionsGcHeap::Init(ClrProcess* p, uint64_t tid) {
  range_base_ = p->Reserve(tid, c_.range, win32::kPageNoAccess, p->Level());
  if (range_base_ == 0) return false;
  const uint64_t bookkeeping_size = GranuleUp(c_.range / kBookkeepingShare);
  const uint64_t bookkeeping = p->Reserve(tid, bookkeeping_size, win32::kPageNoAccess, p->Level());
  for (uint64_t k = 0; bookkeeping != 0 && k < kBookkeepingCommits; ++k) {
    const uint64_t at = bookkeeping + k * (bookkeeping_size / kBookkeepingCommits) / kPage * kPage;
    p->Commit(tid, at, kBookkeepingCommit, win32::kPageReadWrite, p->Level());
  }
  const uint64_t handles = p->Reserve(tid, kGranule, win32::kPageNoAccess, p->Level());
  if (handles != 0) p->Commit(tid, handles, kPage, win32::kPageReadWrite, p->Level());
  current_.resize(c_.heaps);
  since_gc_.assign(c_.heaps, 0);
  for (Region& r : current_) r = TakeRegion(c_.region_size);
  return true;
}

RegionsGcHeap::Region RegionsGcHeap::TakeRegion(uint64_t size) {
  if (size == c_.region_size && !free_.empty()) {
    Region r = free_.back();
    free_.pop_back();
    r.used = 0;
    return r;
  }
  Region r;
  if (fresh_ + size > c_.range) return r;  // range exhausted: size 0, nothing allocates
  r.base = range_base_ + fresh_;
  r.size = size;
  fresh_ += size;
  return r;
}

bool RegionsGcHeap::Allocate(ClrProcess* p, uint64_t tid, uint32_t heap, uint64_t bytes) {
  Region& r = current_[heap];
  since_gc_[heap] += bytes;
  while (bytes > 0 && r.size != 0) {
    if (r.used == r.size) {
      gen0_.push_back(r);
      r = TakeRegion(c_.region_size);
      continue;
    }
    const uint64_t take = std::min(bytes, r.size - r.used);
    r.used += take;
    bytes -= take;
    while (r.used > r.committed) {
      const uint64_t step = std::min(c_.commit_step, r.size - r.committed);
      if (!p->Commit(tid, r.base + r.committed, step, win32::kPageReadWrite, p->Level())) {
        return true;
      }
      r.committed += step;
    }
  }
  return since_gc_[heap] >= c_.gen0_budget;
}

void RegionsGcHeap::AllocateLarge(ClrProcess* p, uint64_t tid, uint64_t bytes,
                                  uint32_t lifetime_gen2s) {
  Region r = TakeRegion((bytes + c_.region_size - 1) / c_.region_size * c_.region_size);
  if (r.size == 0) return;
  r.committed = PageUp(bytes);
  r.used = bytes;
  r.gen2s_left = lifetime_gen2s;
  if (p->Commit(tid, r.base, r.committed, win32::kPageReadWrite, p->Level())) large_.push_back(r);
}

void RegionsGcHeap::Free(ClrProcess* p, uint64_t tid, Region r, bool keep_committed) {
  if (!keep_committed && r.committed != 0) {
    if (p->Decommit(tid, r.base, r.committed)) r.committed = 0;
  }
  if (r.size == c_.region_size) free_.push_back(r);
}

void RegionsGcHeap::Collect(ClrProcess* p, const std::vector<uint64_t>& gc_threads, int gen) {
  auto gc_tid = [&](size_t i) { return gc_threads[i % gc_threads.size()]; };
  const uint64_t tid = gc_threads[0];
  ++collections_;
  Random& rng = p->rng();
  uint64_t gen0_bytes = 0;
  for (uint32_t h = 0; h < c_.heaps; ++h) {
    if (current_[h].size != 0) gen0_.push_back(current_[h]);
    since_gc_[h] = 0;
  }
  for (const Region& r : gen0_) gen0_bytes += r.used;
  // Survivors are compacted into the first regions, which join the old generation.
  const auto survived =
      static_cast<uint64_t>(static_cast<double>(gen0_bytes) * c_.survival * rng.LogNormal(1, 0.3));
  uint64_t kept = 0;
  for (Region& r : gen0_) {
    if (kept < survived) {
      kept += r.used;
      old_.push_back(r);
    } else {
      Free(p, tid, r, true);
    }
  }
  gen0_.clear();
  if (gen == 2) {
    const size_t old_kept = std::max<uint64_t>(1, c_.target_live / c_.region_size);
    while (old_.size() > old_kept) {
      Free(p, tid, old_.back(), true);
      old_.pop_back();
    }
    for (size_t i = 0; i < large_.size();) {
      if (large_[i].gen2s_left == 0) {
        Free(p, gc_tid(i), large_[i], false);
        large_[i] = large_.back();
        large_.pop_back();
      } else {
        --large_[i].gen2s_left;
        ++i;
      }
    }
  }
  // Committed free regions beyond what the next allocations need give back the end of their
  // commit (the smoothed decommit target: about 1 MiB a region), oldest first.
  size_t committed_free = 0;
  for (const Region& r : free_) committed_free += r.committed != 0 ? 1 : 0;
  for (size_t i = 0; i < free_.size() && committed_free > c_.free_regions_kept; ++i) {
    Region& r = free_[i];
    if (r.committed == 0) continue;
    for (uint32_t k = 0; k < c_.decommits_per_region && r.committed != 0; ++k) {
      const uint64_t piece = std::min(
          r.committed, PageUp(static_cast<uint64_t>(rng.LogNormal(c_.decommit_median, 0.9))));
      if (!p->Decommit(gc_tid(i), r.base + r.committed - piece, piece)) break;
      r.committed -= piece;
    }
    --committed_free;
  }
  for (Region& r : current_) r = TakeRegion(c_.region_size);
}

}  // namespace vmreplay::synth
