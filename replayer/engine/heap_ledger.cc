#include "replayer/engine/heap_ledger.h"

namespace vmreplay::replay {
namespace {

// Enough shards that a few dozen replay threads rarely meet on one lock.
constexpr size_t kConcurrentShards = 64;

}  // namespace

HeapLedger::HeapLedger(HeapBackend* heap, bool concurrent) : heap_(heap), concurrent_(concurrent) {
  const size_t n = concurrent ? kConcurrentShards : 1;
  for (size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
}

void HeapLedger::SampleFootprint() {
  last_sample_call_ = heap_calls_;
  last_sampled_live_ = live_;
  const std::optional<uint64_t> f = heap_->Footprint();
  if (!f) return;
  if (!peak_footprint_ || *f > *peak_footprint_) peak_footprint_ = f;
  if (live_ == peak_live_) footprint_at_live_peak_ = f;
}

void HeapLedger::Finish(ReplayMetrics* m) {
  {
    auto lock = Lock(live_mu_);
    if (peak_pending_) SampleFootprint();
    m->heap_calls = heap_calls_;
    m->live_bytes = live_;
    m->peak_live_bytes = peak_live_;
    m->peak_live_event = peak_live_event_;
    m->footprint_at_live_peak = footprint_at_live_peak_;
    m->peak_footprint = peak_footprint_;
  }
  for (auto& s : shards_) {
    auto lock = Lock(s->mu);
    s->table.ForEach([this](uint64_t, const HeapBlock& block) {
      if (block.p != nullptr) heap_->Free(block.p);
    });
    s->table.Clear();
  }
}

}  // namespace vmreplay::replay
