// The gate's baseline file: the figures a corpus of traces produced on each backend when they
// were last accepted, and the tolerance of every figure. Written by `vmreplay gate
// --update-baseline`, committed to the repository, compared by `vmreplay gate`.
//
// JSON schema "vmreplay.gate/1" (new keys may be added within version 1; renaming or removing
// one bumps the version):
//   {"schema":"vmreplay.gate/1",
//    "reference_backend":"sim",     timing figures are ratios to this backend's run, measured in
//                                   the same invocation (machines differ; ratios travel better)
//    "heap":"system", "repetitions":N,   timing figures are medians of N replays
//    "tolerances":{NAME:{"percent":P,"worse":"higher"|"lower"|"any"}},
//    "entries":[{"trace":PATH,"backend":S,"metrics":{NAME:NUMBER}}]}
// A tolerance applies to the figure NAME, or to every figure "NAME.xxx" (e.g. "p50_ratio" covers
// "p50_ratio.VirtualAlloc"). percent 0 = exact (fractions compared to 1e-6). "worse" says which
// direction is a regression; a move the other way beyond the tolerance is reported as improved
// (exit 0) so the baseline can be tightened with --update-baseline.
//
// Figures (metric names):
//   deterministic: events, replayed, skipped_dependent, untranslatable, divergences,
//     peak_commit_bytes, peak_reserve_bytes, commit_end_bytes, fragmentation_max,
//     fragmentation_end (-1 when the backend cannot tell), heap_calls, peak_live_bytes,
//     notifications (low+neutral+high from the manager), platform_calls (all kinds), and
//     manager.NAME for each of the manager's own figures (managers/manager.h);
//   timing (not on the reference cell): events_per_second_ratio = this cell's events/s /
//     the reference's (traces of at least kMinTimedEvents events: a replay of a few thousand
//     events lasts about a millisecond, which a shared machine's noise swamps); p50_ratio.OP /
//     p99_ratio.OP = this backend's latency percentile of OP / the reference's (OPs with at least
//     kMinLatencySamples calls, kMinTailSamples for p99, so that a p99 stands on at least 20
//     samples of the tail).
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "proto/status.h"

namespace vmreplay::gate {

inline constexpr const char* kBaselineSchema = "vmreplay.gate/1";
inline constexpr uint64_t kMinLatencySamples = 200;
inline constexpr uint64_t kMinTailSamples = 2000;
inline constexpr uint64_t kMinTimedEvents = 20000;

struct Tolerance {
  enum class Worse { kHigher, kLower, kAny };
  double percent = 0;  // 0 = exact
  Worse worse = Worse::kAny;
};

// One (trace, backend) pair's figures, in a stable order.
struct Entry {
  std::string trace;
  std::string backend;
  std::vector<std::pair<std::string, double>> metrics;
};

struct Baseline {
  std::string reference_backend = "passthrough/sim";
  std::string heap = "system";
  int repetitions = 3;
  std::map<std::string, Tolerance> tolerances;
  std::vector<Entry> entries;

  // The tolerance of `metric` (exact name, else the part before the first '.'); exact and
  // "any" when none is listed.
  Tolerance ToleranceOf(const std::string& metric) const;
  const Entry* Find(const std::string& trace, const std::string& backend) const;
};

// The tolerances a new baseline starts with (deterministic figures exact, timing ratios wide:
// shared CI machines are noisy).
std::map<std::string, Tolerance> DefaultTolerances();

// Errors: unreadable file, bad JSON, wrong schema, malformed entry; each names the path.
Status LoadBaseline(const std::string& path, Baseline* out);
void WriteBaseline(const Baseline& b, std::ostream& out);
Status SaveBaseline(const Baseline& b, const std::string& path);

// A trace path as baselines store it (lexically normal, '/' separators), so "./a.pb" matches
// "a.pb".
std::string NormalTracePath(const std::string& path);

}  // namespace vmreplay::gate
