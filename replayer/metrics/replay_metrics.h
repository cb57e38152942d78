// What one replay of a trace on one manager x platform x heap cell measured. Every figure is
// defined here, once; reports (replay_report.h) print these fields and nothing else.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/event.h"
#include "replayer/managers/manager.h"
#include "replayer/metrics/log_histogram.h"
#include "replayer/metrics/replay_timeline.h"
#include "replayer/platforms/platform.h"

namespace vmreplay::replay {

// A call whose replayed outcome differs from the recorded one.
struct Divergence {
  uint64_t event_index = 0;  // 0-based position of the event in the trace
  Op op = Op::kUnknown;
  std::string what;  // "recorded error 0, replay error 487", ...
};

struct ReplayMetrics {
  std::string manager;   // the manager's label: its name and the knobs given ("arena:size=16G")
  std::string platform;  // platform name (sim, os)
  std::string heap;      // heap name (what the manager's CreateMalloc handed out)

  uint64_t events = 0;    // events read from the trace
  uint64_t replayed = 0;  // events applied to the manager or the heap
  // Events that are not memory traffic (CreateMalloc, RegisterMemoryNotificationCallback,
  // Needs/Acquired/ReleasedVirtualAddressSpace, recorded OnMemoryNotification): counted, skipped.
  uint64_t skipped_not_memory = 0;
  // Calls into a range / block whose creation failed in replay while the recording succeeded:
  // skipped (they depend on a failed call) and counted.
  uint64_t skipped_dependent = 0;
  // free(NULL) and HostFree(NULL): no-ops by definition, counted and not replayed.
  uint64_t skipped_null_free = 0;
  // mmap-family calls glibc's malloc made inside a recorded heap call (origin=heap): the heap's
  // own pages, which the replay's heap allocates its own way. Counted, not replayed.
  uint64_t skipped_heap_internal = 0;
  // Calls on recorded addresses the replay never saw created (memory from before the recording
  // or from outside the traced interfaces); on real backends they are not issued.
  uint64_t untranslatable = 0;

  // Divergences (see Divergence): total and the first few, in event order.
  uint64_t divergences = 0;
  std::vector<Divergence> first_divergences;
  bool stopped_early = false;  // --strict stopped at the first divergence

  // At the platform (what the OS sees): committed / reserved peaks with the event index of the
  // peak, fragmentation at the end (1 - largest free block / total free), platform calls and
  // system calls per kind, RSS (see PlatformStats).
  PlatformStats vm;
  // Highest fragmentation seen after any VM call (platforms that can tell: sim).
  std::optional<double> max_fragmentation;

  // Heap: live = bytes requested by live blocks. Footprint = what the heap backend took from
  // the level below (heap_backend.h), sampled at local live peaks (at most every 256 heap calls
  // unless live grew by 1/64) and every 4096 heap calls.
  uint64_t heap_calls = 0;
  uint64_t live_bytes = 0;
  uint64_t peak_live_bytes = 0;
  uint64_t peak_live_event = 0;
  std::optional<uint64_t> footprint_at_live_peak;
  std::optional<uint64_t> peak_footprint;
  // (footprint - live) / footprint at the live peak.
  std::optional<double> heap_fragmentation_at_peak() const;
  // Johnstone & Wilson measure #4: peak footprint / peak live - 1.
  std::optional<double> johnstone_wilson_4() const;

  // Latency of each call into the manager or heap, per operation, in nanoseconds (replay side):
  // of every call, of a random sample of about one in `latency_every`, or of none (0); see
  // --latency in engine/replay_engine.h.
  std::array<LogHistogram, kOpCount> latency;
  uint64_t latency_every = 1;
  // Replay state of this lane's latency sampling (not a figure).
  uint64_t latency_skip = 0;
  uint64_t latency_rng = 0x9E3779B97F4A7C15ull;

  // Memory pressure as the manager reports it: GetMemoryLoad answers and the notifications it
  // delivers (passthrough: the machine's, from the platform's commit; simulator/memory_pressure.h).
  uint64_t memory_load_answers = 0;  // GetMemoryLoad calls answered
  uint32_t max_memory_load = 0;      // highest dwMemoryLoad answered or reached
  uint64_t notifications_low = 0;
  uint64_t notifications_neutral = 0;
  uint64_t notifications_high = 0;
  uint64_t recorded_notifications = 0;  // OnMemoryNotification events in the trace

  // Threads: single-threaded replay, or threaded (threaded_replay.h) with the recorded threads
  // seen, the replay threads that ran them, and the events that had to wait for an event of
  // another replay thread (a free for its allocation, a VM call for the previous one).
  bool threaded = false;
  uint64_t recorded_threads = 0;
  uint64_t replay_threads = 1;
  uint64_t cross_thread_waits = 0;

  double wall_seconds = 0;  // replay loop, including trace decoding
  // Adds a threaded replay's per-thread lane: the per-event counters, divergences (unsorted),
  // latency histograms and VM maxima. The heap ledger's figures are not in lanes.
  void MergeLane(const ReplayMetrics& lane);

  // The manager's own figures (arena fragmentation, cache hits, refusals per level, ...) and
  // one-line notes (what did not fit, what the policy does not cover).
  std::vector<ManagerFigure> manager_figures;
  std::vector<std::string> notes;

  // "manager/platform": the cell's VM side, as the gate and diff key runs.
  std::string backend() const { return manager + "/" + platform; }
  // "manager/platform/heap", "+threads" for a threaded replay: the name of the run in every
  // report.
  std::string label() const { return backend() + "/" + heap + (threaded ? "+threads" : ""); }

  double events_per_second() const { return wall_seconds > 0 ? events / wall_seconds : 0; }

  // Commit / reservation / fragmentation over time and notifications (replay_timeline.h).
  // Filled by ReplayTraceWithTimeline (report/timeline_replay.h); empty after ReplayTrace until
  // the engine records it itself (it would call timeline.Record from ReplayEngine::AfterVm).
  ReplayTimeline timeline;
};

}  // namespace vmreplay::replay
