#include "traces/synth/gc_heap.h"

#include <algorithm>

#include "simulator/win32_constants.h"
#include "traces/synth/page_math.h"

namespace vmreplay::synth {

bool GcHeap::Init(ClrProcess* p, uint64_t tid) {
  base_ = p->Reserve(tid, c_.segment_size, win32::kPageReadWrite, p->Level());
  if (base_ == 0) return false;
  // The card table: one byte per 2 KiB of heap, rounded to pages, reserved and committed.
  const uint64_t cards = PageUp(c_.segment_size / 2048);
  p->Reserve(tid, cards, win32::kPageReadWrite, p->Level(), /*commit=*/true);
  committed_end_ = c_.commit_step;
  p->Commit(tid, base_, committed_end_, win32::kPageReadWrite, p->Level());
  p->Query(tid, base_);
  return true;
}

bool GcHeap::Allocate(ClrProcess* p, uint64_t tid, uint64_t bytes) {
  // Never run past the segment: the budget check below makes the caller collect first.
  const uint64_t room = c_.segment_size - alloc_;
  bytes = std::min(bytes, room);
  alloc_ += bytes;
  since_gc_ += bytes;
  while (alloc_ > committed_end_ && committed_end_ < c_.segment_size) {
    const uint64_t step = std::min(c_.commit_step, c_.segment_size - committed_end_);
    if (!p->Commit(tid, base_ + committed_end_, step, win32::kPageReadWrite, p->Level())) break;
    committed_end_ += step;
  }
  return since_gc_ >= c_.gen0_budget || c_.segment_size - alloc_ < c_.gen0_budget;
}

void GcHeap::AllocateLarge(ClrProcess* p, uint64_t tid, uint64_t bytes, uint32_t lifetime_gen2s) {
  if (large_live_bytes_ + bytes > c_.loh_live_limit) return;  // the app would not keep more
  const uint64_t b = p->Reserve(tid, bytes, win32::kPageReadWrite, p->Level(), /*commit=*/true);
  if (b == 0) return;
  large_.push_back({b, bytes, lifetime_gen2s});
  large_live_bytes_ += bytes;
}

void GcHeap::Trim(uint64_t live) {
  for (Large& l : large_) l.gen2s_left = 0;
  c_.target_live = live;
}

void GcHeap::Collect(ClrProcess* p, uint64_t tid, int gen, uint64_t bgc_tid) {
  ++collections_;
  Random& r = p->rng();
  const uint64_t gen0 = alloc_ - used_;
  const double survival = c_.gen0_survival * r.LogNormal(1.0, 0.3) * (gen >= 1 ? 0.7 : 1.0);
  used_ += std::min<uint64_t>(gen0, static_cast<uint64_t>(static_cast<double>(gen0) * survival));
  if (gen == 2) {
    // Background marking watches writes to the old data.
    const uint64_t watched = PageUp(std::max<uint64_t>(used_, kPage));
    p->Protect(bgc_tid, base_, watched, win32::kPageReadOnly);
    if (!large_.empty()) {
      const Large& l = large_[r.Range(0, large_.size() - 1)];
      p->Query(bgc_tid, l.base + r.Range(0, l.size - 1) / kPage * kPage);
    }
    p->Sleep(static_cast<uint64_t>(r.LogNormal(2e6, 0.4)));  // concurrent mark
    p->Protect(bgc_tid, base_, watched, win32::kPageReadWrite);
    if (used_ > c_.target_live) {
      const double keep = 0.75 + 0.2 * r.Unit();
      used_ = std::max<uint64_t>(static_cast<uint64_t>(static_cast<double>(c_.target_live) * keep),
                                 kPage);
    }
    // Sweep the large-object heap: dead objects' reservations go back.
    for (size_t i = 0; i < large_.size();) {
      if (large_[i].gen2s_left == 0) {
        p->Release(bgc_tid, large_[i].base);
        large_live_bytes_ -= large_[i].size;
        large_[i] = large_.back();
        large_.pop_back();
      } else {
        --large_[i].gen2s_left;
        ++i;
      }
    }
  }
  alloc_ = used_;
  since_gc_ = 0;
  DecommitTail(p, tid);
}

void GcHeap::DecommitTail(ClrProcess* p, uint64_t tid) {
  // Keep the live data and a quarter of the gen0 budget committed; give the rest back.
  const uint64_t keep = std::min(c_.segment_size, GranuleUp(used_ + c_.gen0_budget / 4));
  if (keep < committed_end_) {
    if (p->Decommit(tid, base_ + keep, committed_end_ - keep)) committed_end_ = keep;
  }
}

}  // namespace vmreplay::synth
