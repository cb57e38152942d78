// `--report=out.html`: one self-contained HTML file (inline CSS and SVG drawn here; no script,
// no network at view time) showing a replay's runs side by side:
//   - commit, reservation and address-space fragmentation over the event index, one line per
//     run (bucket maxima of ReplayMetrics::timeline, so peaks are never lost to downsampling);
//   - latency per operation kind: p50/p90/p99/p99.9/max per run, log scale;
//   - the summary table (replay_report.h TableRows, the same figures as the text table).
// Stable hooks for tests: every chart is <svg class="chart" id="chart-...">, every line a
// <path class="series" data-run=LABEL>, every legend entry <text class="legend">LABEL</text>, the
// table <table id="summary">.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "replayer/metrics/replay_metrics.h"

namespace vmreplay::replay {

void WriteHtmlReport(const std::string& trace, const std::vector<ReplayMetrics>& runs,
                     std::ostream& out);

}  // namespace vmreplay::replay
