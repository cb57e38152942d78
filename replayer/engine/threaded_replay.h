// Threaded replay (`--threads=replay`): every recorded thread replays on a thread of its own, so
// a heap backend sees the concurrency, the thread caches and the cross-thread frees of the
// recording, which single-threaded replay hides.
//
// Order across threads is what the trace implies, enforced with the fewest waits:
//   - events of one recorded thread run in trace order (one FIFO per replay thread);
//   - events on one recorded heap pointer run in trace order (a free waits for the allocation that
//     returned the pointer, an allocation that reuses an address waits for the free before it);
//   - VM events (everything that is not a heap call: VirtualAlloc ... mmap ..., GetMemoryLoad) run
//     one at a time in trace order, since one address space is shared and the simulator's
//     layout-faithful placement depends on that order.
// An event waits only for the *latest* earlier event on its pointer (or the latest VM event) when
// that event belongs to another replay thread; every dependency points backwards in the trace, so
// the earliest unfinished event can always run and the replay cannot deadlock.
//
// The reader thread dispatches; each replay thread owns a bounded queue of 64-event batches
// (memory stays independent of the trace length). A batch is handed over when full, at the end,
// or at once when another thread's event comes to depend on one of its events. Heap events count
// into a per-thread metrics lane, VM events into one shared lane (they never run at once); the
// lanes are merged at the end. At most ReplayOptions::max_threads replay threads are started:
// further recorded threads share them round-robin (counted in ReplayMetrics::recorded_threads vs
// replay_threads).
#pragma once

#include "proto/event_source.h"
#include "replayer/engine/progress_bar.h"
#include "replayer/engine/replay_engine.h"

namespace vmreplay::replay {

// Replays every event of `source` through `engine` (built concurrent) into `metrics`, which must
// be the metrics the engine was built with. The observer, if any, sees the VM events only, in
// trace order. Returns an error only when a replay thread cannot be started; read errors are
// left in source.status().
Status ReplayThreaded(EventSource& source, ReplayEngine& engine, Platform& vm,
                      const ReplayOptions& options, ReplayMetrics* metrics,
                      ReplayObserver* observer, ProgressBar& progress);

}  // namespace vmreplay::replay
