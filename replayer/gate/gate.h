// `vmreplay gate`: replays traces on manager/platform cells, measures the baseline figures
// (baseline.h) and compares them with a committed baseline under its tolerances.
//
// Measure: for every trace, `repetitions` rounds; each round replays the trace once on the
// reference backend and once on every other backend (interleaved, so a noisy neighbour slows all
// of them alike). Deterministic figures come from the first round; timing figures are the median
// over the rounds of each backend, divided by the reference's median.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "proto/status.h"
#include "replayer/gate/baseline.h"
#include "replayer/metrics/replay_metrics.h"

namespace vmreplay::gate {

struct GateOptions {
  std::vector<std::string> traces;
  // Cells as MANAGER/PLATFORM or an old backend name (engine/replay_engine.h: BackendCell); the
  // reference is always replayed, and gated too. Entries are keyed MANAGER/PLATFORM.
  std::vector<std::string> backends;
  std::string reference = "passthrough/sim";
  std::string heap = "system";
  int repetitions = 3;
  // Traces replayed at once (gate -j); 1 when a cell is on os or a plugin (not safe side by
  // side). Deterministic figures do not depend on it; timing ratios do, a little.
  size_t jobs = 1;
};

// Errors: a trace that cannot be replayed or a backend that cannot be built (message names it).
Status Measure(const GateOptions& options, std::vector<Entry>* out);

enum class Verdict { kOk, kImproved, kRegressed, kNew, kMissing };

struct Comparison {
  std::string trace, backend, metric;
  double baseline = 0, now = 0;
  bool has_baseline = false, has_now = false;
  Tolerance tolerance;
  Verdict verdict = Verdict::kOk;
  double change_percent() const;
};

struct GateResult {
  std::vector<Comparison> rows;
  size_t regressions = 0, improved = 0, moved = 0;
  // (trace, backend) pairs measured that the baseline does not have: an error (exit 2).
  std::vector<std::string> unknown;
};

GateResult Compare(const Baseline& baseline, const std::vector<Entry>& now);

// The table of what moved (every row when `all`), then a one-line summary.
void PrintGateResult(const GateResult& r, bool all, std::ostream& out);

}  // namespace vmreplay::gate
