#include "replayer/gate/gate.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <map>
#include <thread>

#include "replayer/engine/replay_engine.h"

namespace vmreplay::gate {
namespace {

using replay::ReplayMetrics;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The timing figures of one backend on one trace: medians over the repetitions.
struct Timing {
  uint64_t events = 0;
  double events_per_second = 0;
  struct Percentiles {
    double first = 0;   // median p50
    double second = 0;  // median p99
    uint64_t tail_samples = 0;
  };
  std::map<int, Percentiles> p50_p99;
};

Timing MedianTiming(const std::vector<ReplayMetrics>& runs) {
  Timing t;
  std::vector<double> eps;
  for (const auto& m : runs) eps.push_back(m.events_per_second());
  t.events_per_second = Median(eps);
  t.events = runs.empty() ? 0 : runs[0].events;
  for (int op = 0; op < kOpCount; ++op) {
    if (runs.empty() || runs[0].latency[op].count() < kMinLatencySamples) continue;
    std::vector<double> p50, p99;
    for (const auto& m : runs) {
      p50.push_back(static_cast<double>(m.latency[op].Percentile(0.5)));
      p99.push_back(static_cast<double>(m.latency[op].Percentile(0.99)));
    }
    t.p50_p99[op] = {Median(p50), Median(p99), runs[0].latency[op].count()};
  }
  return t;
}

std::vector<std::pair<std::string, double>> Deterministic(const ReplayMetrics& m) {
  uint64_t platform_calls = 0;
  for (const auto& [kind, n] : m.vm.calls) platform_calls += n;
  std::vector<std::pair<std::string, double>> out = {
      {"events", static_cast<double>(m.events)},
      {"replayed", static_cast<double>(m.replayed)},
      {"skipped_dependent", static_cast<double>(m.skipped_dependent)},
      {"untranslatable", static_cast<double>(m.untranslatable)},
      {"divergences", static_cast<double>(m.divergences)},
      {"peak_commit_bytes", static_cast<double>(m.vm.peak_committed_bytes)},
      {"peak_reserve_bytes", static_cast<double>(m.vm.peak_reserved_bytes)},
      {"commit_end_bytes", static_cast<double>(m.vm.committed_bytes)},
      // Rounded as the baseline file stores them, so a fresh baseline compares equal.
      {"fragmentation_max", std::round(m.max_fragmentation.value_or(-1) * 1e6) / 1e6},
      {"fragmentation_end", std::round(m.vm.fragmentation.value_or(-1) * 1e6) / 1e6},
      {"heap_calls", static_cast<double>(m.heap_calls)},
      {"peak_live_bytes", static_cast<double>(m.peak_live_bytes)},
      {"notifications",
       static_cast<double>(m.notifications_low + m.notifications_neutral + m.notifications_high)},
      {"platform_calls", static_cast<double>(platform_calls)},
  };
  // The policy's own figures (arena fragmentation, cache hits, refusals per level).
  for (const replay::ManagerFigure& f : m.manager_figures) {
    out.emplace_back("manager." + f.name, f.unit == replay::ManagerFigure::Unit::kRatio
                                              ? std::round(f.value * 1e6) / 1e6
                                              : f.value);
  }
  return out;
}

double Ratio(double a, double b) { return b > 0 ? std::round(a / b * 1e4) / 1e4 : 0; }

std::vector<std::pair<std::string, double>> TimingFigures(const Timing& t, const Timing& ref) {
  std::vector<std::pair<std::string, double>> out;
  if (t.events >= kMinTimedEvents) {
    out.emplace_back("events_per_second_ratio", Ratio(t.events_per_second, ref.events_per_second));
  }
  for (const auto& [op, v] : t.p50_p99) {
    auto r = ref.p50_p99.find(op);
    if (r == ref.p50_p99.end()) continue;
    const std::string name(OpName(static_cast<Op>(op)));
    out.emplace_back("p50_ratio." + name, Ratio(v.first, r->second.first));
    if (v.tail_samples >= kMinTailSamples) {
      out.emplace_back("p99_ratio." + name, Ratio(v.second, r->second.second));
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[48];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4f", v);
  }
  return buf;
}

std::string ToleranceText(const Tolerance& t) {
  const char* dir = t.worse == Tolerance::Worse::kHigher  ? " up"
                    : t.worse == Tolerance::Worse::kLower ? " down"
                                                          : "";
  if (t.percent == 0) return std::string("exact") + dir;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%%s", t.percent, dir);
  return buf;
}

const char* VerdictText(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kImproved:
      return "improved";
    case Verdict::kRegressed:
      return "REGRESSED";
    case Verdict::kNew:
      return "new";
    case Verdict::kMissing:
      return "missing";
  }
  return "?";
}

}  // namespace

Status Measure(const GateOptions& options, std::vector<Entry>* out) {
  // Cells by their canonical name, MANAGER/PLATFORM (old backend names map onto them).
  struct Cell {
    std::string name, manager, platform;
  };
  std::vector<Cell> cells;
  for (const std::string& b : [&] {
         std::vector<std::string> all = {options.reference};
         all.insert(all.end(), options.backends.begin(), options.backends.end());
         return all;
       }()) {
    Cell c;
    VMREPLAY_RETURN_IF_ERROR(replay::BackendCell(b, &c.manager, &c.platform));
    c.name = c.manager + "/" + c.platform;
    bool seen = false;
    for (const Cell& other : cells) seen |= other.name == c.name;
    if (!seen) cells.push_back(std::move(c));
  }
  const std::string reference = cells.front().name;
  // One trace's cells, interleaved over the repetitions (a noisy neighbour slows them alike).
  auto measure_trace = [&](const std::string& trace, std::vector<Entry>* entries) -> Status {
    std::map<std::string, std::vector<ReplayMetrics>> runs;
    for (int rep = 0; rep < std::max(1, options.repetitions); ++rep) {
      for (const Cell& c : cells) {
        replay::ReplayOptions ro;
        ro.manager = c.manager;
        ro.platform = c.platform;
        ro.heap = options.heap;
        ReplayMetrics m;
        const Status s = replay::ReplayTrace(trace, ro, &m);
        if (!s.ok()) return Status::Error(trace + " on " + c.name + ": " + s.message());
        runs[c.name].push_back(std::move(m));
      }
    }
    const Timing ref = MedianTiming(runs[reference]);
    for (const Cell& c : cells) {
      Entry e{NormalTracePath(trace), c.name, Deterministic(runs[c.name].front())};
      if (c.name != reference) {
        auto t = TimingFigures(MedianTiming(runs[c.name]), ref);
        e.metrics.insert(e.metrics.end(), t.begin(), t.end());
      }
      entries->push_back(std::move(e));
    }
    return Status::Ok();
  };
  // Traces run on `jobs` threads. Real memory (os: one RSS per process) and plugins (a shared
  // library's globals) are not safe to replay side by side: one thread then.
  size_t jobs = std::max<size_t>(1, options.jobs);
  for (const Cell& c : cells) {
    if (c.platform == "os" || c.manager.rfind("plugin", 0) == 0) jobs = 1;
  }
  const size_t n = options.traces.size();
  std::vector<std::vector<Entry>> per_trace(n);
  std::vector<Status> status(n, Status::Ok());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++)
      status[i] = measure_trace(options.traces[i], &per_trace[i]);
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(jobs, n); ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < n; ++i) {
    VMREPLAY_RETURN_IF_ERROR(status[i]);
    out->insert(out->end(), per_trace[i].begin(), per_trace[i].end());
  }
  return Status::Ok();
}

double Comparison::change_percent() const {
  if (baseline == now) return 0;
  if (baseline == 0) return now > 0 ? INFINITY : -INFINITY;
  return (now - baseline) / std::fabs(baseline) * 100;
}

GateResult Compare(const Baseline& baseline, const std::vector<Entry>& now) {
  GateResult r;
  for (const Entry& e : now) {
    const Entry* base = baseline.Find(e.trace, e.backend);
    if (base == nullptr) {
      r.unknown.push_back(e.trace + " on " + e.backend);
      continue;
    }
    std::map<std::string, double> before(base->metrics.begin(), base->metrics.end());
    for (const auto& [name, value] : e.metrics) {
      Comparison c{e.trace, e.backend, name, 0, value, false, true, baseline.ToleranceOf(name)};
      auto it = before.find(name);
      if (it == before.end()) {
        // A figure the baseline predates (e.g. an op newly above the sample threshold).
        c.verdict = Verdict::kNew;
        r.rows.push_back(c);
        continue;
      }
      c.has_baseline = true;
      c.baseline = it->second;
      before.erase(it);
      const double diff = c.now - c.baseline;
      // Exact figures: fractions are stored to 1e-6, so smaller differences are rounding.
      const double allowed = std::max(1e-6, std::fabs(c.baseline) * c.tolerance.percent / 100.0);
      if (diff != 0) ++r.moved;
      if (std::fabs(diff) > allowed) {
        const bool worse = c.tolerance.worse == Tolerance::Worse::kAny ||
                           (c.tolerance.worse == Tolerance::Worse::kHigher && diff > 0) ||
                           (c.tolerance.worse == Tolerance::Worse::kLower && diff < 0);
        c.verdict = worse ? Verdict::kRegressed : Verdict::kImproved;
        if (worse) {
          ++r.regressions;
        } else {
          ++r.improved;
        }
      }
      r.rows.push_back(c);
    }
    // Figures the baseline has and this run no longer produces (e.g. an op below the sample
    // threshold now): shown, not a regression.
    for (const auto& [name, value] : before) {
      Comparison c{e.trace, e.backend, name, value, 0, true, false, baseline.ToleranceOf(name)};
      c.verdict = Verdict::kMissing;
      r.rows.push_back(c);
    }
  }
  return r;
}

void PrintGateResult(const GateResult& r, bool all, std::ostream& out) {
  std::vector<const Comparison*> shown;
  for (const Comparison& c : r.rows) {
    if (all || c.verdict != Verdict::kOk || c.now != c.baseline) shown.push_back(&c);
  }
  if (!shown.empty()) {
    size_t wt = 5, wm = 6;
    for (const Comparison* c : shown) {
      wt = std::max(wt, c->trace.size() + 1 + c->backend.size());
      wm = std::max(wm, c->metric.size());
    }
    out << std::left << std::setw(static_cast<int>(wt)) << "trace/backend"
        << "  " << std::setw(static_cast<int>(wm)) << "metric" << std::right << "  "
        << std::setw(14) << "baseline"
        << "  " << std::setw(14) << "now"
        << "  " << std::setw(9) << "change"
        << "  " << std::setw(10) << "tolerance"
        << "  verdict\n";
    for (const Comparison* c : shown) {
      char change[32] = "-";
      if (c->has_baseline && c->has_now) {
        const double p = c->change_percent();
        if (std::isinf(p)) {
          std::snprintf(change, sizeof change, "%s", p > 0 ? "+inf" : "-inf");
        } else {
          std::snprintf(change, sizeof change, "%+.1f%%", p);
        }
      }
      out << std::left << std::setw(static_cast<int>(wt)) << (c->trace + " " + c->backend) << "  "
          << std::setw(static_cast<int>(wm)) << c->metric << std::right << "  " << std::setw(14)
          << (c->has_baseline ? Num(c->baseline) : "-") << "  " << std::setw(14)
          << (c->has_now ? Num(c->now) : "-") << "  " << std::setw(9) << change << "  "
          << std::setw(10) << ToleranceText(c->tolerance) << "  " << VerdictText(c->verdict)
          << "\n";
    }
  }
  for (const std::string& u : r.unknown) out << "not in the baseline: " << u << "\n";
  out << "gate: " << r.rows.size() << " figures checked, " << r.moved << " moved, " << r.improved
      << " improved beyond tolerance, " << r.regressions << " regressed"
      << (r.regressions       ? " -> FAIL"
          : r.unknown.empty() ? " -> PASS"
                              : " -> ERROR")
      << "\n";
}

}  // namespace vmreplay::gate
