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
  // Checkpoints by time; each takes the state before the first event that starts after it.
  std::vector<size_t> order(checkpoints.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return checkpoints[a].after_unix_ns < checkpoints[b].after_unix_ns;
  });
  comparisons->assign(checkpoints.size(), OracleComparison());
  size_t next = 0;
  auto take_until = [&](uint64_t unix_ns) {
    while (next < order.size() && checkpoints[order[next]].after_unix_ns < unix_ns) {
      OracleComparison& c = (*comparisons)[order[next]];
      c.checkpoint = checkpoints[order[next]];
      c.trace_committed = gc_committed();
      ++next;
    }
  };
  sim::AddressSpace& space = model.space();
  Event e;
  while (source->Next(&e)) {
    take_until(h.start_time_unix_ns() + e.timestamp_ns);
    if (e.op == Op::kVirtualAlloc) {
      space.VirtualAlloc(e.addr, e.size, e.flags, e.protect, e.result);
    } else if (e.op == Op::kVirtualFree) {
      space.VirtualFree(e.addr, e.size, e.flags);
    } else if (e.op == Op::kVirtualProtect) {
      uint32_t old = 0;
      space.VirtualProtect(e.addr, e.size, e.protect, &old);
    }
  }
  VMREPLAY_RETURN_IF_ERROR(source->status());
  take_until(UINT64_MAX);
  return Status::Ok();
}

std::string FormatComparisons(const std::vector<OracleComparison>& comparisons) {
  std::string out =
      "checkpoint          runtime TotalCommittedBytes   trace GC-heap committed   trace/runtime\n";
  for (const OracleComparison& c : comparisons) {
    char line[160];
    std::snprintf(line, sizeof line, "%-18s %28llu %25llu %15.4f\n", c.checkpoint.label.c_str(),
                  static_cast<unsigned long long>(c.checkpoint.total_committed),
                  static_cast<unsigned long long>(c.trace_committed), c.ratio());
    out += line;
  }
  return out;
}

}  // namespace vmreplay::lift
