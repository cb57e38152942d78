// The replay engine: applies a trace's events, in order, to one VM backend and one heap backend,
// translating recorded addresses (address_map.h), comparing each outcome with the recorded one
// and collecting ReplayMetrics.
//
// Guarantees: memory is proportional to what is live in the trace (ranges and heap blocks), not
// to its length; a call that depends on a call that failed in replay is skipped and counted,
// never issued; single-threaded (events are applied in trace order on the calling thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "proto/event.h"
#include "proto/trace.pb.h"
#include "replayer/address_map.h"
#include "replayer/block_table.h"
#include "replayer/heap_backend.h"
#include "replayer/op_clock.h"
#include "replayer/replay_metrics.h"
#include "replayer/vm_backend.h"
#include "simulator/memory_pressure.h"

namespace vmreplay::replay {

struct ReplayOptions {
  std::string backend = "sim";
  std::string heap = "system";
  VmBackendOptions vm;  // windows/page size/granularity/physical memory come from the header
  HeapBackendOptions heap_options;
  size_t max_divergences_kept = 10;
  bool strict = false;    // stop at the first divergence
  bool progress = false;  // progress bar on stderr (the caller checks isatty)
};

class ReplayEngine {
 public:
  // REQUIRES: backends outlive the engine.
  ReplayEngine(VmBackend* vm, HeapBackend* heap, const ReplayOptions& options,
               const proto::Header& header, ReplayMetrics* metrics);

  // Applies event number `index`. Returns false when the replay must stop (--strict).
  bool Apply(const Event& e, uint64_t index);
  // Final figures (backend stats, pending samples).
  void Finish();

 private:
  void ApplyVirtualAlloc(const Event& e, uint64_t index);
  void ApplyVirtualFree(const Event& e, uint64_t index);
  void ApplyVirtualProtect(const Event& e, uint64_t index);
  void ApplyVirtualQuery(const Event& e, uint64_t index);
  void ApplyMmap(const Event& e, uint64_t index);
  void ApplyRangeOp(const Event& e, uint64_t index);  // munmap, mprotect, madvise
  void ApplyMremap(const Event& e, uint64_t index);
  void ApplyHeap(const Event& e, uint64_t index);
  void AfterVm(uint64_t index);

  // Records the call's outcome against the recording; `detail` names an exact-mode mismatch.
  void Compare(const Event& e, uint64_t index, bool replay_ok, uint32_t replay_error,
               const std::string& detail = "");
  void Diverge(const Event& e, uint64_t index, std::string what);
  // Records the latency of a backend call that started at clock_.Now() == start.
  void Time(Op op, uint64_t start);
  // Where a recorded address lives in the replay. `dead`: inside a range whose replay failed or
  // was released early (the call depends on it and is skipped). Neither set: memory the replay
  // never saw (foreign to a real backend).
  struct Translation {
    std::optional<uint64_t> address;
    bool dead = false;
  };
  Translation Translate(uint64_t recorded) const;

  void AddBlock(uint64_t recorded, void* p, uint64_t size, uint64_t index);
  void RemoveLive(uint64_t size);
  void SampleFootprint();

  uint64_t PageUp(uint64_t a) const { return (a + page_size_ - 1) & ~(page_size_ - 1); }

  VmBackend* vm_;
  HeapBackend* heap_;
  ReplayOptions options_;
  ReplayMetrics* m_;
  OpClock clock_;  // times backend calls (what the latency metric measures: op_clock.h)
  CompareMode mode_;
  bool identity_;
  uint64_t page_size_;
  AddressMap ranges_;
  BlockTable blocks_;  // recorded pointer -> replayed block
  sim::MemoryPressureModel pressure_;
  bool stop_ = false;
  // Footprint sampling state (see ReplayMetrics).
  bool peak_pending_ = false;
  uint64_t last_sample_call_ = 0;
  uint64_t last_sampled_live_ = 0;
};

// Sees every event right after the engine applied it, e.g. to sample the backend's state over
// time for reports. Without an observer the replay loop does no per-event work for it.
class ReplayObserver {
 public:
  virtual ~ReplayObserver() = default;
  virtual void OnStart(ReplayMetrics* metrics) { (void)metrics; }
  virtual void AfterEvent(const Event& e, uint64_t index, VmBackend& vm,
                          const ReplayMetrics& metrics) = 0;
  // After the engine finished: metrics are final.
  virtual void OnFinish(ReplayMetrics* metrics) { (void)metrics; }
};

// Opens `path`, builds the backends `options` name and replays the whole trace. Errors: the
// reader's one-line message for a bad trace, or a backend that cannot be built.
Status ReplayTrace(const std::string& path, const ReplayOptions& options, ReplayMetrics* out,
                   ReplayObserver* observer = nullptr);

}  // namespace vmreplay::replay
