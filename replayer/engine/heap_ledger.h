// The heap side of a replay's state: which replayed block each recorded pointer stands for, the
// live bytes and their peak, and the heap backend's footprint sampled at live peaks.
//
// Two modes. Single-threaded (the default) takes no lock. Concurrent (threaded replay) shards the
// block table over mutexes and guards the live accounting with one, so replay threads may call
// every method at once. Either way the caller orders calls on the *same* recorded pointer (the
// threaded driver does, see threaded_replay.h), so a lookup followed by an erase of one key never
// races; the ledger hands out copies, never pointers into a table another thread may grow.
//
// Footprint sampling (the meaning of the figures is in replay_metrics.h): every 4096 heap calls,
// and just before live bytes drop from a local peak (at most every 256 calls unless live grew by
// 1/64 since the last sample), so the footprint recorded is the one at the peak.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "replayer/engine/block_table.h"
#include "replayer/heaps/heap_backend.h"
#include "replayer/metrics/replay_metrics.h"

namespace vmreplay::replay {

class HeapLedger {
 public:
  // REQUIRES: heap outlives the ledger.
  HeapLedger(HeapBackend* heap, bool concurrent);

  // Counts one heap call (the sampling cadence) and samples when one is due.
  void CountCall();

  // The block recorded at `recorded`, if any.
  std::optional<HeapBlock> Find(uint64_t recorded);
  void Erase(uint64_t recorded);
  // Find, then Erase.
  std::optional<HeapBlock> Take(uint64_t recorded);

  // A hint: the block at `recorded` is looked up or added soon. Single-threaded replay only (it
  // reads a table that concurrent replay threads may be growing).
  void Prefetch(uint64_t recorded) const { shards_[0]->table.Prefetch(recorded); }
  bool PrefetchPays() const { return shards_[0]->table.PrefetchPays(); }

  // Records `recorded` -> {p, size} (p == nullptr: dead, the replay's allocation failed) made by
  // trace event `index`. A block already at `recorded` (its free was not traced) is freed first.
  void Add(uint64_t recorded, void* p, uint64_t size, uint64_t index);
  // A live block of `size` bytes goes away; samples the footprint first when live is at a peak.
  void Release(uint64_t size);

  // Samples a pending peak, exports the heap figures into `m` and frees the blocks still live
  // (the trace's leaks).
  void Finish(ReplayMetrics* m);

 private:
  struct Shard {
    std::mutex mu;
    BlockTable table;
  };
  Shard& ShardOf(uint64_t recorded) {
    if (!concurrent_) return *shards_[0];
    // Top bits of a multiplicative hash with another multiplier than BlockTable's: with the
    // same one, every key of a shard would share the top bits its table indexes by, and crowd
    // into a 64th of the slots (linear probing then took 45% of a threaded replay).
    return *shards_[(recorded * 0xC2B2AE3D27D4EB4Full) >> 58];
  }
  // Inline, so that single-threaded replay pays nothing for it.
  std::unique_lock<std::mutex> Lock(std::mutex& mu) const {
    return concurrent_ ? std::unique_lock<std::mutex>(mu) : std::unique_lock<std::mutex>();
  }
  void AddLive(uint64_t size, uint64_t index);  // REQUIRES: live_mu_ held (concurrent)
  void SampleFootprint();                       // REQUIRES: live_mu_ held (concurrent)

  HeapBackend* heap_;
  bool concurrent_;
  std::vector<std::unique_ptr<Shard>> shards_;  // 1 when single-threaded
  std::mutex live_mu_;
  uint64_t heap_calls_ = 0;
  uint64_t live_ = 0;
  uint64_t peak_live_ = 0;
  uint64_t peak_live_event_ = 0;
  std::optional<uint64_t> footprint_at_live_peak_;
  std::optional<uint64_t> peak_footprint_;
  bool peak_pending_ = false;
  uint64_t last_sample_call_ = 0;
  uint64_t last_sampled_live_ = 0;
};

// Inline: every heap event of a replay makes two or three of these calls, and a single-threaded
// replay takes no lock in them.
inline void HeapLedger::CountCall() {
  auto lock = Lock(live_mu_);
  ++heap_calls_;
  if (heap_calls_ - last_sample_call_ >= 4096) SampleFootprint();
}

inline std::optional<HeapBlock> HeapLedger::Find(uint64_t recorded) {
  Shard& s = ShardOf(recorded);
  auto lock = Lock(s.mu);
  const HeapBlock* b = s.table.Find(recorded);
  if (b == nullptr) return std::nullopt;
  return *b;
}

inline void HeapLedger::Erase(uint64_t recorded) {
  Shard& s = ShardOf(recorded);
  auto lock = Lock(s.mu);
  s.table.Erase(recorded);
}

inline std::optional<HeapBlock> HeapLedger::Take(uint64_t recorded) {
  Shard& s = ShardOf(recorded);
  auto lock = Lock(s.mu);
  HeapBlock block;
  if (!s.table.Take(recorded, &block)) return std::nullopt;
  return block;
}

inline void HeapLedger::Add(uint64_t recorded, void* p, uint64_t size, uint64_t index) {
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

inline void HeapLedger::AddLive(uint64_t size, uint64_t index) {
  live_ += size;
  if (live_ > peak_live_) {
    peak_live_ = live_;
    peak_live_event_ = index;
    peak_pending_ = true;
  }
}

inline void HeapLedger::Release(uint64_t size) {
  auto lock = Lock(live_mu_);
  if (peak_pending_ && (heap_calls_ - last_sample_call_ >= 256 ||
                        live_ > last_sampled_live_ + last_sampled_live_ / 64)) {
    SampleFootprint();
  }
  peak_pending_ = false;
  live_ -= size;
}

}  // namespace vmreplay::replay
