// `--perfetto=out.json`: the Chrome trace-event JSON format, which ui.perfetto.dev and
// chrome://tracing open. One process per run (pid = 1 + run index, named by a "process_name"
// metadata event), with:
//   - "C" counter events "committed", "reserved" (bytes) and "fragmentation" (0..1), one per
//     timeline bucket (ReplayMetrics::timeline), at the bucket's first event;
//   - "i" instant events (process scope) per memory notification, named
//     "notification low|neutral|high", args.source = "recorded" (in the trace) or "model"
//     (the backend's memory-pressure model during the replay).
// ts is in microseconds: the trace timestamps when the trace has them (non-decreasing and not all
// zero), otherwise the event index (1 event = 1 µs), as the top-level "vmreplay" object says.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "replayer/metrics/replay_metrics.h"

namespace vmreplay::replay {

void WritePerfettoTrace(const std::string& trace, const std::vector<ReplayMetrics>& runs,
                        std::ostream& out);

}  // namespace vmreplay::replay
