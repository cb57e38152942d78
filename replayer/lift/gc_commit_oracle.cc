#include "replayer/lift/gc_commit_oracle.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "proto/event_source.h"
#include "replayer/lift/clr_lift.h"
#include "replayer/lift/win32_model.h"

namespace vmreplay::lift {
namespace {

constexpr char kOraclePrefix[] = "vmreplay-oracle ";

bool ParseField(const std::string& token, const std::string& key, uint64_t* value) {
  if (token.rfind(key + "=", 0) != 0) return false;
  const std::string digits = token.substr(key.size() + 1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  *value = std::stoull(digits);
  return true;
}

}  // namespace

Status ParseOracleOutput(const std::string& path, std::vector<OracleCheckpoint>* checkpoints) {
  std::ifstream in(path);
  if (!in) return Status::Error(path + ": cannot open");
  checkpoints->clear();
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.rfind(kOraclePrefix, 0) != 0) continue;
    OracleCheckpoint c;
    int seen = 0;
    std::istringstream tokens(line.substr(sizeof kOraclePrefix - 1));
    for (std::string t; tokens >> t;) {
      if (t.rfind("label=", 0) == 0) {
        c.label = t.substr(6);
        ++seen;
      } else if (ParseField(t, "total_committed", &c.total_committed) ||
                 ParseField(t, "before_unix_ns", &c.before_unix_ns) ||
                 ParseField(t, "after_unix_ns", &c.after_unix_ns)) {
        ++seen;
      } else {
        ParseField(t, "gc_index", &c.gc_index);
      }
    }
    if (seen != 4) {
      return Status::Error(path + ":" + std::to_string(number) +
                           ": oracle line needs label, total_committed, before_unix_ns and "
                           "after_unix_ns");
    }
    checkpoints->push_back(c);
  }
  if (checkpoints->empty()) return Status::Error(path + ": no 'vmreplay-oracle' line");
  return Status::Ok();
}

Status CompareWithLiftedTrace(const std::string& lifted_trace,
                              const std::vector<OracleCheckpoint>& checkpoints,
                              std::vector<OracleComparison>* comparisons) {
  std::unique_ptr<EventSource> source;
  VMREPLAY_RETURN_IF_ERROR(OpenTrace(lifted_trace, &source));
  const proto::Header& h = source->header();
  const auto heap = h.metadata().find(kGcHeapReservationsKey);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  if (heap == h.metadata().end() || !ParseRanges(heap->second, &ranges)) {
    return Status::Error(lifted_trace + ": header has no valid " +
                         std::string(kGcHeapReservationsKey) + " (not written by lift --clr?)");
  }
  Win32Model model(LiftedAddressSpaceConfig(h));
  auto gc_committed = [&] {
    uint64_t n = 0;
    for (const auto& [base, size] : ranges) n += model.CommittedIn(base, base + size);
    return n;
  };
  // Each checkpoint: the state when its window opens, then after every call inside it, and the
  // state when it closes (before the first call that starts after it).
  enum class Phase { kBefore, kOpen, kClosed };
  std::vector<Phase> phase(checkpoints.size(), Phase::kBefore);
  comparisons->assign(checkpoints.size(), OracleComparison());
  for (size_t i = 0; i < checkpoints.size(); ++i) (*comparisons)[i].checkpoint = checkpoints[i];
  auto advance = [&](uint64_t unix_ns) {
    uint64_t now = 0;
    bool known = false;
    for (size_t i = 0; i < checkpoints.size(); ++i) {
      OracleComparison& c = (*comparisons)[i];
      const bool opens = phase[i] == Phase::kBefore && checkpoints[i].before_unix_ns <= unix_ns;
      const bool closes = phase[i] != Phase::kClosed && checkpoints[i].after_unix_ns < unix_ns;
      if (!opens && !closes) continue;
      if (!known) now = gc_committed(), known = true;
      if (phase[i] == Phase::kBefore) {
        c.window_min = c.window_max = now;
        c.reached = now == c.checkpoint.total_committed;
        phase[i] = Phase::kOpen;
      }
      if (closes) {
        c.trace_committed = now;
        phase[i] = Phase::kClosed;
      }
    }
  };
  auto observe = [&] {
    uint64_t now = 0;
    bool known = false;
    for (size_t i = 0; i < checkpoints.size(); ++i) {
      if (phase[i] != Phase::kOpen) continue;
      if (!known) now = gc_committed(), known = true;
      OracleComparison& c = (*comparisons)[i];
      c.window_min = std::min(c.window_min, now);
      c.window_max = std::max(c.window_max, now);
      c.reached = c.reached || now == c.checkpoint.total_committed;
    }
  };
  sim::AddressSpace& space = model.space();
  Event e;
  while (source->Next(&e)) {
    advance(h.start_time_unix_ns() + e.timestamp_ns);
    if (e.op == Op::kVirtualAlloc) {
      space.VirtualAlloc(e.addr, e.size, e.flags, e.protect, e.result);
    } else if (e.op == Op::kVirtualFree) {
      space.VirtualFree(e.addr, e.size, e.flags);
    } else if (e.op == Op::kVirtualProtect) {
      uint32_t old = 0;
      space.VirtualProtect(e.addr, e.size, e.protect, &old);
    } else {
      continue;
    }
    observe();
  }
  VMREPLAY_RETURN_IF_ERROR(source->status());
  advance(UINT64_MAX);
  return Status::Ok();
}

std::string FormatComparisons(const std::vector<OracleComparison>& comparisons) {
  std::string out =
      "checkpoint      runtime TotalCommitted   trace GC-heap   trace/runtime   trace over the "
      "collection's window\n";
  for (const OracleComparison& c : comparisons) {
    char line[200];
    std::snprintf(
        line, sizeof line, "%-15s %22llu %15llu %15.4f   %llu..%llu %s\n",
        c.checkpoint.label.c_str(), static_cast<unsigned long long>(c.checkpoint.total_committed),
        static_cast<unsigned long long>(c.trace_committed), c.ratio(),
        static_cast<unsigned long long>(c.window_min),
        static_cast<unsigned long long>(c.window_max), c.agrees() ? "agrees" : "DISAGREES");
    out += line;
  }
  return out;
}

}  // namespace vmreplay::lift
