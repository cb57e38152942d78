// Reports of one or more replays of the same trace, one column (table) or object (JSON) or row
// (CSV) per manager x platform x heap cell.
//
// JSON schema "vmreplay.replay/2" (2: runs are cells; "backend" is "MANAGER/PLATFORM"):
//   {"schema":"vmreplay.replay/2","trace":PATH,"runs":[{
//     "backend":S,"manager":S,"platform":S,"heap":S,"events":N,"replayed":N,"skipped_not_memory":N,
//     "skipped_dependent":N,"skipped_null_free":N,"skipped_heap_internal":N,"untranslatable":N,"divergences":N,"stopped_early":B,
//     "threads":{"mode":"single"|"replay","recorded":N,"replay":N,"cross_thread_waits":N},
//     "first_divergences":[{"event":N,"op":S,"what":S}],
//     "peak_commit_bytes":N,"peak_commit_event":N,"peak_reserve_bytes":N,"peak_reserve_event":N,
//     "commit_end_bytes":N,"fragmentation_end":F|null,"fragmentation_max":F|null,
//     "out_of_space":N,"commit_limit_refusals":N,"commit_limit":N|null,
//     "foreign_mappings":{"placed":N,"bytes":N,"skipped":N} (the trace's address-space snapshot),
//     "platform_calls":{KIND:N},"syscalls":{KIND:N},"manager_figures":{NAME:N|F},"notes":[S],
//     "rss_high_water_bytes":N|null,
//     "heap_calls":N,"peak_live_bytes":N,"peak_live_event":N,"footprint_at_live_peak":N|null,
//     "peak_footprint":N|null,"heap_fragmentation_at_peak":F|null,"johnstone_wilson_4":F|null,
//     "latency_every":N (1 every call timed, N about one in N, 0 none),
//     "latency_ns":{OP:{"count":N,"mean":F,"p50":N,"p90":N,"p99":N,"p999":N,"max":N}},
//     "memory_load_answers":N,"max_memory_load":N,
//     "notifications":{"low":N,"neutral":N,"high":N},"recorded_notifications":N,
//     "wall_seconds":F,"events_per_second":F}]}
// New fields may be added within version 2; renaming or removing one bumps the version.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "replayer/metrics/replay_metrics.h"

namespace vmreplay::replay {

// The human table as data: one row per figure, one cell per run (WriteTable and the HTML report
// print these, so both always show the same figures).
struct TableRow {
  std::string label;
  std::vector<std::string> cells;  // runs.size() cells
};
std::vector<TableRow> TableRows(const std::vector<ReplayMetrics>& runs);
void WriteTable(const std::vector<ReplayMetrics>& runs, std::ostream& out);
void WriteJson(const std::string& trace, const std::vector<ReplayMetrics>& runs, std::ostream& out);
// One header line, then one line per run; the columns are the JSON scalars (latency as
// OP_p50/OP_p99 for every operation any run used).
void WriteCsv(const std::vector<ReplayMetrics>& runs, std::ostream& out);

}  // namespace vmreplay::replay
