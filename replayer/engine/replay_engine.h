// The replay engine: stands in for the CLR (or the recorded Linux process) and applies a trace's
// events, in order, to one memory manager (managers/manager.h) over one platform
// (platforms/platform.h), and to the heap the manager's CreateMalloc hands out, translating
// recorded addresses (address_map.h), comparing each outcome with the recorded one and
// collecting ReplayMetrics. A replay is one manager x platform x heap cell.
//
// Guarantees: memory is proportional to what is live in the trace (ranges and heap blocks), not
// to its length; a call that depends on a call that failed in replay is skipped and counted,
// never issued.
//
// Threads: single-threaded replay applies events in trace order on one thread. Threaded replay
// (threaded_replay.h) builds the engine `concurrent` and calls Apply from several threads, each
// with its own metrics lane, under two rules the caller enforces: VM events (every event that is
// not a heap call) run one at a time in trace order, and events on one recorded heap pointer run
// in trace order. Heap calls on different pointers may then run at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "proto/event.h"
#include "proto/trace.pb.h"
#include "replayer/engine/address_map.h"
#include "replayer/engine/heap_ledger.h"
#include "replayer/engine/op_clock.h"
#include "replayer/heaps/heap_backend.h"
#include "replayer/managers/manager.h"
#include "replayer/metrics/replay_metrics.h"
#include "replayer/platforms/platform.h"

namespace vmreplay::replay {

// Whether a binary trace is decoded on a thread of its own: kAuto decides from the first chunk
// (event_pump.h).
enum class ReadAhead { kAuto, kOn, kOff };

struct ReplayOptions {
  std::string manager = "passthrough";  // a --manager spec (managers/manager_options.h)
  std::string platform = "sim";
  std::string heap = "system";
  PlatformOptions vm;  // windows/page size/granularity/physical memory come from the header
  HeapBackendOptions heap_options;
  size_t max_divergences_kept = 10;
  bool strict = false;    // stop at the first divergence
  bool progress = false;  // progress bar on stderr (the caller checks isatty)
  // Threaded replay (threaded_replay.h): each recorded thread on a replay thread of its own,
  // at most max_threads of them.
  bool threaded = false;
  size_t max_threads = 64;
  // Read and decode the trace on a thread of its own, ahead of the replay (chunk_read_ahead.h).
  ReadAhead read_ahead = ReadAhead::kAuto;
  // Which calls are timed for the latency figures: 1 = every call; N > 1 = about one call in N,
  // each chosen at random (uniform gaps of 0 to 2N-2 calls, so no periodic pattern of the trace
  // aliases with the sampling); 0 = none (deterministic figures only, at the untimed floor).
  uint64_t latency_every = 1;
};

// Parses --latency: "all", "sample:N" (N >= 2) or "off".
Status ParseLatency(const std::string& text, uint64_t* every);

class ReplayEngine {
 public:
  // REQUIRES: the manager (and its platform and heap) outlives the engine.
  // `metrics` names the cell, receives the final figures and is the single-threaded lane.
  ReplayEngine(Manager* manager, const ReplayOptions& options, const proto::Header& header,
               ReplayMetrics* metrics, bool concurrent = false);

  // Applies event number `index`. Returns false when the replay must stop (--strict).
  bool Apply(const Event& e, uint64_t index) { return Apply(e, index, metrics_); }
  // The same, counting into `lane` (threaded replay merges the lanes with MergeLane).
  bool Apply(const Event& e, uint64_t index, ReplayMetrics* lane);
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }
  // Replay hints (event_pump.h): while the heap table is too large to stay in cache, a hint
  // that `e` is applied soon starts loading the heap block it will look up or add.
  // REQUIRES: a single-threaded replay.
  bool active() const { return ledger_.PrefetchPays(); }
  void Prefetch(const Event& e) const {
    if (!IsHeapCall(e.op)) return;
    const bool by_address = e.op == Op::kFree || e.op == Op::kHostFree || e.op == Op::kRealloc;
    ledger_.Prefetch(by_address ? e.addr : e.result);
  }
  // Final figures (backend stats, heap figures) into the `metrics` given at construction.
  void Finish();

  // Heap calls: the events threaded replay may run concurrently (on different pointers).
  static bool IsHeapCall(Op op) { return IsHostMallocOp(op) || IsPosixHeapOp(op); }

 private:
  // Each counts into the lane `m`.
  void ApplyVirtualAlloc(const Event& e, uint64_t index, ReplayMetrics* m);
  void ApplyVirtualFree(const Event& e, uint64_t index, ReplayMetrics* m);
  void ApplyVirtualProtect(const Event& e, uint64_t index, ReplayMetrics* m);
  void ApplyVirtualQuery(const Event& e, uint64_t index, ReplayMetrics* m);
  void ApplyMmap(const Event& e, uint64_t index, ReplayMetrics* m);
  void ApplyRangeOp(const Event& e, uint64_t index, ReplayMetrics* m);  // munmap, mprotect, madvise
  void ApplyMremap(const Event& e, uint64_t index, ReplayMetrics* m);
  void ApplyHeap(const Event& e, uint64_t index, ReplayMetrics* m);
  void ApplyAddressSpaceHint(const Event& e, ReplayMetrics* m);  // Needs/Acquired/Released...
  void AfterVm(uint64_t index, ReplayMetrics* m);

  // Records the call's outcome against the recording; `detail` names an exact-mode mismatch.
  void Compare(ReplayMetrics* m, const Event& e, uint64_t index, bool replay_ok,
               uint32_t replay_error, const std::string& detail = "");
  void Diverge(ReplayMetrics* m, const Event& e, uint64_t index, std::string what);
  // The clock before a call, or 0 when this call is not timed (--latency); Time records the
  // call's latency when it was. Inline: one pair per replayed call.
  uint64_t Start(ReplayMetrics* m) const {
    if (latency_every_ == 1) return clock_.Now();
    if (latency_every_ == 0) return 0;
    if (m->latency_skip != 0) {
      --m->latency_skip;
      return 0;
    }
    m->latency_skip = NextSkip(m);
    return clock_.Now();
  }
  void Time(ReplayMetrics* m, Op op, uint64_t start) const {
    if (start == 0) return;
    m->latency[static_cast<int>(op)].Record(clock_.Nanoseconds(start, clock_.Now()));
  }
  uint64_t NextSkip(ReplayMetrics* m) const;
  // Where a recorded address lives in the replay. `dead`: inside a range whose replay failed or
  // was released early (the call depends on it and is skipped). Neither set: memory the replay
  // never saw (foreign to a real backend).
  struct Translation {
    std::optional<uint64_t> address;
    bool dead = false;
  };
  Translation Translate(uint64_t recorded) const;

  uint64_t PageUp(uint64_t a) const { return (a + page_size_ - 1) & ~(page_size_ - 1); }

  Manager* manager_;
  Platform* platform_;
  HeapBackend* heap_;  // what the manager's CreateMalloc handed out
  ReplayOptions options_;
  ReplayMetrics* metrics_;
  OpClock clock_;  // times backend calls (what the latency metric measures: op_clock.h)
  CompareMode mode_;
  bool identity_;
  uint64_t latency_every_;  // ReplayOptions::latency_every
  uint64_t page_size_;
  HeapLedger ledger_;  // recorded pointer -> replayed block, live bytes, footprint samples
  // VM side: touched by VM events only, which run one at a time.
  AddressMap ranges_;
  // Recorded page ranges [start, end) whose commit succeeded in the recording and failed in
  // replay (a manager's budget, a commit limit): protections there depend on that commit and
  // are skipped. Empty unless commits fail, so the common replay pays one branch.
  std::map<uint64_t, uint64_t> failed_commits_;
  bool InFailedCommit(uint64_t start, uint64_t end) const;
  void ForgetFailedCommits(uint64_t start, uint64_t end);
  std::atomic<bool> stop_{false};
};

// Sees every event right after the engine applied it, e.g. to sample the backend's state over
// time for reports. Without an observer the replay loop does no per-event work for it.
class ReplayObserver {
 public:
  virtual ~ReplayObserver() = default;
  virtual void OnStart(ReplayMetrics* metrics) { (void)metrics; }
  virtual void AfterEvent(const Event& e, uint64_t index, Platform& platform,
                          const ReplayMetrics& metrics) = 0;
  // After the engine finished: metrics are final.
  virtual void OnFinish(ReplayMetrics* metrics) { (void)metrics; }
};

// Opens `path`, builds the platform, heap and manager `options` name and replays the whole
// trace. Errors: the reader's one-line message for a bad trace, or a cell that cannot be built.
Status ReplayTrace(const std::string& path, const ReplayOptions& options, ReplayMetrics* out,
                   ReplayObserver* observer = nullptr);

// What an old `--backend` name stands for: sim = passthrough on sim, os = passthrough on os,
// arena = the arena manager on os (real memory, as the arena backend was). Also accepts
// "MANAGER/PLATFORM" (the label of a cell). Error for anything else.
Status BackendCell(std::string_view backend, std::string* manager, std::string* platform);

}  // namespace vmreplay::replay
