#include "traces/synth/trace_figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <set>

#include "proto/event_source.h"
#include "simulator/win32_constants.h"

namespace vmreplay::synth {
namespace {

constexpr uint64_t kActivityWindowNs = 100'000'000;

double Percentile(std::vector<uint64_t>* v, double p) {
  if (v->empty()) return 0;
  const size_t i = static_cast<size_t>(p * static_cast<double>(v->size() - 1));
  std::nth_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(i), v->end());
  return static_cast<double>((*v)[i]);
}

double Per(double n, double d) { return d == 0 ? 0 : n / d; }

std::string Number(double v) {
  char buf[32];
  if (std::isinf(v)) return "inf";
  if (v >= 1e6 && v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else if (v >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f", v);
  }
  return buf;
}

}  // namespace

Status MeasureTrace(const std::string& path, TraceFigures* out) {
  std::unique_ptr<EventSource> source;
  VMREPLAY_RETURN_IF_ERROR(OpenTrace(path, &source));
  std::vector<uint64_t> reserves, commits, decommits, allocs;
  uint64_t committed = 0, decommitted = 0, vm = 0, heap = 0;
  std::set<uint64_t> active;  // activity windows with a call in them
  Event e;
  while (source->Next(&e)) {
    active.insert(e.timestamp_ns / kActivityWindowNs);
    if (e.op >= Op::kVirtualAlloc && e.op <= Op::kVirtualProtect) ++vm;
    if (IsHostMallocOp(e.op)) ++heap;
    if (e.op == Op::kVirtualAlloc && (e.flags & win32::kMemReserve) != 0) {
      reserves.push_back(e.size);
    } else if (e.op == Op::kVirtualAlloc && (e.flags & win32::kMemCommit) != 0) {
      commits.push_back(e.size);
      committed += e.size;
    } else if (e.op == Op::kVirtualFree && e.flags == win32::kMemDecommit) {
      decommits.push_back(e.size);
      decommitted += e.size;
    } else if (e.op == Op::kHostAlloc || e.op == Op::kHostDebugAlloc) {
      allocs.push_back(e.size);
    }
  }
  VMREPLAY_RETURN_IF_ERROR(source->status());
  const double span = static_cast<double>(active.size() * kActivityWindowNs) * 1e-9;
  TraceFigures& f = *out;
  auto at = [&](Figure x) -> double& { return f[static_cast<size_t>(x)]; };
  at(Figure::k_reserves_per_s) = Per(static_cast<double>(reserves.size()), span);
  at(Figure::k_reserve_max) =
      reserves.empty() ? 0
                       : static_cast<double>(*std::max_element(reserves.begin(), reserves.end()));
  at(Figure::k_reserve_p50) = Percentile(&reserves, 0.5);
  at(Figure::k_commits_per_s) = Per(static_cast<double>(commits.size()), span);
  at(Figure::k_commit_p50) = Percentile(&commits, 0.5);
  at(Figure::k_commit_p90) = Percentile(&commits, 0.9);
  at(Figure::k_commit_mib_per_s) = Per(static_cast<double>(committed) / (1 << 20), span);
  at(Figure::k_decommits_per_commit) =
      Per(static_cast<double>(decommits.size()), static_cast<double>(commits.size()));
  at(Figure::k_decommit_p50) = Percentile(&decommits, 0.5);
  at(Figure::k_decommitted_share) =
      Per(static_cast<double>(decommitted), static_cast<double>(committed));
  at(Figure::k_vm_calls_per_s) = Per(static_cast<double>(vm), span);
  at(Figure::k_heap_calls_per_s) = Per(static_cast<double>(heap), span);
  at(Figure::k_vm_share) = Per(static_cast<double>(vm), static_cast<double>(vm + heap));
  at(Figure::k_alloc_p50) = Percentile(&allocs, 0.5);
  at(Figure::k_alloc_p90) = Percentile(&allocs, 0.9);
  return Status::Ok();
}

double FigureDistance(double real, double synthetic) {
  if (real == 0 && synthetic == 0) return 0;
  if (real == 0 || synthetic == 0) return std::numeric_limits<double>::infinity();
  return std::fabs(std::log2(synthetic / real));
}

std::string FormatFigureTable(const std::vector<std::string>& names,
                              const std::vector<TraceFigures>& figures, int real) {
  std::string out = "figure                 ";
  for (size_t c = 0; c < names.size(); ++c) {
    char cell[64];
    std::snprintf(cell, sizeof cell, " %22.22s", names[c].c_str());
    out += cell;
    if (real >= 0 && static_cast<int>(c) != real) out += "   dist";
  }
  out += "\n";
  for (size_t r = 0; r < kFigureCount; ++r) {
    char head[32];
    std::snprintf(head, sizeof head, "%-23.23s", std::string(kFigureInfo[r].name).c_str());
    out += head;
    for (size_t c = 0; c < figures.size(); ++c) {
      char cell[64];
      std::snprintf(cell, sizeof cell, " %22s", Number(figures[c][r]).c_str());
      out += cell;
      if (real >= 0 && static_cast<int>(c) != real) {
        std::snprintf(cell, sizeof cell, " %6s",
                      Number(FigureDistance(figures[real][r], figures[c][r])).c_str());
        out += cell;
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace vmreplay::synth
