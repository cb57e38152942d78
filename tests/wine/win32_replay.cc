#include "tests/wine/win32_replay.h"

#include <cinttypes>
#include <cstdio>
#include <memory>

#include "proto/event_source.h"
#include "proto/text_format.h"
#include "simulator/address_space.h"
#include "simulator/win32_constants.h"
#include "tests/wine/wine_deviations.h"
#include "tests/wine/wine_protection_shadow.h"

namespace vmreplay::wine_test {
namespace {

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
  return buf;
}

SimOutcome Apply(sim::AddressSpace& space, const Event& e) {
  SimOutcome out;
  switch (e.op) {
    case Op::kVirtualAlloc: {
      // Layout-faithful: NULL-address reservations go where the recorded call's went.
      const sim::AllocOutcome r = space.VirtualAlloc(e.addr, e.size, e.flags, e.protect, e.result);
      out.result = r.address;
      out.error = r.error;
      break;
    }
    case Op::kVirtualFree:
      out.error = space.VirtualFree(e.addr, e.size, e.flags);
      break;
    case Op::kVirtualProtect:
      out.error = space.VirtualProtect(e.addr, e.size, e.protect, &out.old_protect);
      break;
    case Op::kVirtualQuery:
      out.result = space.VirtualQuery(e.addr, &out.info, &out.error);
      break;
    default:
      break;
  }
  return out;
}

// Empty when every outcome agrees, else " field: wine=X sim=Y" for each that differs.
std::string Compare(const Event& e, const SimOutcome& s) {
  std::string diff;
  auto check = [&](const char* name, uint64_t wine, uint64_t sim, bool hex) {
    if (wine == sim) return;
    diff += std::string(" ") + name + ": wine=" + (hex ? Hex(wine) : std::to_string(wine)) +
            " sim=" + (hex ? Hex(sim) : std::to_string(sim));
  };
  // Raw Win32 calls: the oracle always records S_OK.
  check("hresult", e.hresult, 0, true);
  switch (e.op) {
    case Op::kVirtualAlloc:
      check("result", e.result, s.result, true);
      check("error", e.error, s.error, false);
      break;
    case Op::kVirtualFree:
      check("error", e.error, s.error, false);
      break;
    case Op::kVirtualProtect:
      check("error", e.error, s.error, false);
      // *lpflOldProtect is unspecified after a failure; the oracle records 0 then.
      if (e.error == 0) check("old_protect", e.old_protect, s.old_protect, true);
      break;
    case Op::kVirtualQuery:
      check("result", e.result, s.result, true);
      check("error", e.error, s.error, false);
      check("q_base", e.q_base, s.info.base_address, true);
      check("q_alloc_base", e.q_alloc_base, s.info.allocation_base, true);
      check("q_alloc_protect", e.q_alloc_protect, s.info.allocation_protect, true);
      check("q_region_size", e.q_region_size, s.info.region_size, false);
      check("q_state", e.q_state, s.info.state, true);
      check("q_protect", e.q_protect, s.info.protect, true);
      check("q_type", e.q_type, s.info.type, true);
      break;
    default:
      diff = " not an operation the oracle records";
      break;
  }
  return diff;
}

sim::AddressSpaceConfig ConfigFrom(const proto::Header& h) {
  sim::AddressSpaceConfig c;
  c.page_size = h.page_size();
  c.allocation_granularity = h.allocation_granularity();
  c.min_address = h.min_user_address();
  c.max_address = h.max_user_address();
  if (h.physical_memory() != 0) c.physical_memory = h.physical_memory();
  c.placement = sim::Placement::kLayoutFaithful;
  return c;
}

}  // namespace

ReplayReport ReplayOracleTrace(const std::string& path) {
  ReplayReport report;
  std::unique_ptr<EventSource> source;
  if (Status status = OpenTrace(path, &source); !status.ok()) {
    report.error = status.message();
    return report;
  }
  const proto::Header& header = source->header();
  if (header.source() != proto::SOURCE_WIN32_ORACLE || header.pointer_bits() != 64) {
    report.error = path + ": not a 64-bit win32_oracle trace";
    return report;
  }
  const sim::AddressSpaceConfig config = ConfigFrom(header);
  if (std::string why = config.Validate(); !why.empty()) {
    report.error = path + ": header gives an unusable address space: " + why;
    return report;
  }
  sim::AddressSpace space(config);
  WineProtectionShadow shadow(config.page_size);
  const auto no_strings = [](uint32_t) { return std::string_view(); };

  Event e;
  while (source->Next(&e)) {
    const uint64_t index = report.events++;
    ++report.events_by_op[std::string(OpName(e.op))];
    space.set_event_index(index);
    Context context;
    InspectBefore(space, e, &context);
    const SimOutcome sim = Apply(space, e);
    std::string diff = Compare(e, sim);
    if (!diff.empty()) {
      if (e.op == Op::kVirtualQuery) {
        context.wine_protection_run =
            shadow.Run(sim.info.base_address, sim.info.base_address + sim.info.region_size);
      }
      for (const WineDeviation& d : KnownWineDeviations()) {
        if (d.applies(e, sim, context)) {
          ++report.deviations[d.id];
          diff.clear();
          break;
        }
      }
    }
    shadow.Apply(e);
    if (std::string broken = space.CheckInvariants(); !broken.empty()) {
      diff += " simulator invariant broken: " + broken;
    }
    if (diff.empty()) continue;
    ++report.total_mismatches;
    if (report.mismatches.size() < ReplayReport::kMaxListed) {
      std::string line =
          "event #" + std::to_string(index) + " (line " + std::to_string(index + 2) + "): ";
      AppendEventLine(e, no_strings, &line);
      report.mismatches.push_back(line + "\n   ->" + diff);
    }
  }
  if (!source->status().ok()) report.error = source->status().message();
  return report;
}

std::string Describe(const std::string& name, const ReplayReport& report) {
  std::string s = name + ": " + std::to_string(report.events) + " events compared (";
  bool first = true;
  for (const auto& [op, n] : report.events_by_op) {
    s += (first ? "" : ", ") + op + " " + std::to_string(n);
    first = false;
  }
  s += "), " + std::to_string(report.total_mismatches) + " mismatches";
  if (!report.deviations.empty()) {
    s += "; known Wine deviations accepted:";
    for (const auto& [id, n] : report.deviations) s += " " + id + " x" + std::to_string(n);
  }
  s += "\n";
  if (!report.error.empty()) s += "  error: " + report.error + "\n";
  for (const std::string& m : report.mismatches) s += "  " + m + "\n";
  if (report.total_mismatches > report.mismatches.size()) {
    s += "  ... and " + std::to_string(report.total_mismatches - report.mismatches.size()) +
         " more\n";
  }
  return s;
}

}  // namespace vmreplay::wine_test
