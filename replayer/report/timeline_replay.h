// A replay that also records ReplayMetrics::timeline (commit, reservation and fragmentation over
// time, notifications) for the HTML report and the Perfetto trace.
//
// ReplayTrace (replay_engine.h) with an observer that reads the backend's counters after every
// event: O(1) per event (two virtual calls and the sampler), plus one Platform::stats() call per
// timeline bucket for the reservation figure (stats() may read /proc on real backends). Timings
// are therefore a few percent slower than a plain ReplayTrace; the gate measures without it.
#pragma once

#include <string>

#include "proto/status.h"
#include "replayer/engine/replay_engine.h"

namespace vmreplay::replay {

Status ReplayTraceWithTimeline(const std::string& path, const ReplayOptions& options,
                               size_t max_samples, ReplayMetrics* out);

}  // namespace vmreplay::replay
