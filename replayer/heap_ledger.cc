#include "replayer/heap_ledger.h"

namespace vmreplay::replay {
namespace {

// Enough shards that a few dozen replay threads rarely meet on one lock.
constexpr size_t kConcurrentShards = 64;

}  // namespace

HeapLedger::HeapLedger(HeapBackend* heap, bool concurrent) : heap_(heap), concurrent_(concurrent) {
  const size_t n = concurrent ? kConcurrentShards : 1;
  for (size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
}

void HeapLedger::CountCall() {
  auto lock = Lock(live_mu_);
  ++heap_calls_;
  if (heap_calls_ - last_sample_call_ >= 4096) SampleFootprint();
}

std::optional<HeapBlock> HeapLedger::Find(uint64_t recorded) {
  Shard& s = ShardOf(recorded);
  auto lock = Lock(s.mu);
  const HeapBlock* b = s.table.Find(recorded);
  if (b == nullptr) return std::nullopt;
  return *b;
}

void HeapLedger::Erase(uint64_t recorded) {
  Shard& s = ShardOf(recorded);
  auto lock = Lock(s.mu);
  s.table.Erase(recorded);
}

std::optional<HeapBlock> HeapLedger::Take(uint64_t recorded) {
  Shard& s = ShardOf(recorded);
  auto lock = Lock(s.mu);
  const HeapBlock* b = s.table.Find(recorded);
  if (b == nullptr) return std::nullopt;
  const HeapBlock block = *b;
  s.table.Erase(recorded);
  return block;
}

void HeapLedger::Add(uint64_t recorded, void* p, uint64_t size, uint64_t index) {
  std::optional<HeapBlock> displaced;
  {
    Shard& s = ShardOf(recorded);
    auto lock = Lock(s.mu);
    auto [slot, inserted] = s.table.TryEmplace(recorded, HeapBlock{p, size});
    if (!inserted) {  // The recording reused the address: its free was not traced.
      displaced = *slot;
      *slot = HeapBlock{p, size};
    }
  }
  if (displaced && displaced->p != nullptr) {
    heap_->Free(displaced->p);
    Release(displaced->size);
  }
  if (p == nullptr) return;
  auto lock = Lock(live_mu_);
  AddLive(size, index);
}

void HeapLedger::AddLive(uint64_t size, uint64_t index) {
  live_ += size;
  if (live_ > peak_live_) {
    peak_live_ = live_;
    peak_live_event_ = index;
    peak_pending_ = true;
  }
}

void HeapLedger::Release(uint64_t size) {
  auto lock = Lock(live_mu_);
  if (peak_pending_ && (heap_calls_ - last_sample_call_ >= 256 ||
                        live_ > last_sampled_live_ + last_sampled_live_ / 64)) {
    SampleFootprint();
  }
  peak_pending_ = false;
  live_ -= size;
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
