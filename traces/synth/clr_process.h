// The simulated CLR process the profiles drive: every IHostMemoryManager / IHostMalloc call a
// profile makes goes through here, gets its outcome from a simulated Win32 address space and is
// appended to the trace with a timestamp and a latency.
//
// Guarantees:
//  - Self-consistency: VirtualAlloc / VirtualFree / VirtualProtect / VirtualQuery outcomes (result
//    address, GetLastError, old protection, MEMORY_BASIC_INFORMATION) are the ones a fresh
//    sim::AddressSpace (Win64 shape, layout-faithful placement) computes when the trace's events
//    are applied in order, so `vmreplay replay --backend=sim` reproduces them with no divergence.
//  - GetMemoryLoad answers and OnMemoryNotification events are those of sim::MemoryPressureModel
//    (default thresholds, no background load, the header's physical memory) fed the simulated
//    commit after every virtual-memory call, as the replay engine does.
//  - Deterministic: the same options give the same events (no wall clock, no host state).
//  - Timestamps never decrease; each call's latency follows a cost model (a fixed part plus a
//    per-byte part for commit and decommit) with log-normal jitter.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "proto/event.h"
#include "proto/trace_writer.h"
#include "simulator/address_space.h"
#include "simulator/memory_pressure.h"
#include "traces/synth/random.h"

namespace vmreplay::synth {

// EMemoryCriticalLevel.
inline constexpr uint32_t kTaskCritical = 0;
inline constexpr uint32_t kAppDomainCritical = 1;
inline constexpr uint32_t kProcessCritical = 2;
inline constexpr uint32_t kMallocThreadSafe = 1;  // MALLOC_TYPE

struct ProcessShape {
  uint64_t physical_memory = 16ull << 30;
  uint64_t duration_ns = 10'000'000'000;
  uint64_t max_events = 0;  // 0 = no cap
};

class ClrProcess {
 public:
  // REQUIRES: writer outlives the process.
  ClrProcess(const ProcessShape& shape, uint64_t seed, TraceWriter* writer);

  // ------------------------------------------------------------------ clock and budget
  uint64_t now() const { return now_; }
  void Sleep(uint64_t ns) { now_ += ns; }
  // True once the simulated duration or the event cap is reached, or a write failed; profiles
  // stop generating new work then (they may still finish a call sequence in progress).
  bool done() const {
    return !status_.ok() || now_ >= shape_.duration_ns ||
           (shape_.max_events != 0 && writer_->events_written() >= shape_.max_events);
  }
  const Status& status() const { return status_; }
  Random& rng() { return rng_; }

  // Before this, VirtualAlloc and host allocations are eProcessCritical (runtime start-up).
  void StartupComplete() { started_ = true; }
  bool started() const { return started_; }
  // The level the CLR passes for a call on an ordinary path: eProcessCritical during start-up,
  // else eTaskCritical, and eAppDomainCritical for `locked` paths (holding a loader lock).
  uint32_t Level(bool locked = false) const {
    if (!started_) return kProcessCritical;
    return locked ? kAppDomainCritical : kTaskCritical;
  }

  // ------------------------------------------------------------------ IHostMemoryManager
  // CreateMalloc(MALLOC_THREADSAFE); returns the heap id.
  uint64_t CreateMalloc(uint64_t tid);
  void RegisterMemoryNotificationCallback(uint64_t tid);
  // VirtualAlloc(NULL, size, MEM_RESERVE[|MEM_COMMIT], protect). Returns the base, 0 on failure.
  uint64_t Reserve(uint64_t tid, uint64_t size, uint32_t protect, uint32_t level,
                   bool commit = false);
  // VirtualAlloc(addr, size, MEM_COMMIT, protect). True on success.
  bool Commit(uint64_t tid, uint64_t addr, uint64_t size, uint32_t protect, uint32_t level);
  bool Decommit(uint64_t tid, uint64_t addr, uint64_t size);
  bool Release(uint64_t tid, uint64_t base);
  // VirtualProtect; returns the old protection (0 on failure).
  uint32_t Protect(uint64_t tid, uint64_t addr, uint64_t size, uint32_t protect);
  void Query(uint64_t tid, uint64_t addr);
  sim::MemoryLoad GetMemoryLoad(uint64_t tid);

  // ------------------------------------------------------------------ IHostMalloc
  // Alloc, or DebugAlloc when `file` is not empty. Returns the block address.
  uint64_t HostAlloc(uint64_t tid, uint64_t size, uint32_t level, std::string_view file = {},
                     int32_t line = 0);
  void HostFree(uint64_t tid, uint64_t ptr);

  // The notification state the host last delivered (what the CLR reacts to).
  sim::MemoryAvailable pressure_state() const { return pressure_.state(); }
  const sim::AddressSpace& space() const { return space_; }
  uint64_t committed() const { return space_.metrics().committed_bytes; }
  uint64_t physical_memory() const { return shape_.physical_memory; }
  // The thread that delivers ICLRMemoryNotificationCallback notifications (the host's).
  static constexpr uint64_t kNotifierThread = 0x0f3c;

 private:
  // Appends `e` stamped now with `latency_ns` jittered; advances the clock past the call.
  void Emit(Event e, double latency_ns);
  // After a virtual-memory call: memory-pressure model update and notification.
  void AfterVm(uint64_t tid);
  uint64_t NextPlacement(uint64_t size);

  ProcessShape shape_;
  TraceWriter* writer_;
  Random rng_;
  Status status_;
  sim::AddressSpace space_;
  sim::MemoryPressureModel pressure_;
  uint64_t now_ = 0;
  bool started_ = false;
  uint64_t heap_id_ = 0;
  // Where the next NULL-address reservation is placed (a layout-faithful hint for the simulator),
  // so addresses look like a 64-bit Windows process's rather than starting at 64 KiB.
  uint64_t placement_cursor_;
  // The host's own malloc: size-class free lists (LIFO, so addresses are reused as a real heap
  // reuses them) over a bump region. Only addresses are modelled; no memory is touched.
  uint64_t heap_bump_;
  std::map<uint64_t, std::vector<uint64_t>> free_blocks_;
  std::map<uint64_t, uint64_t> live_blocks_;  // address -> size class
};

}  // namespace vmreplay::synth
