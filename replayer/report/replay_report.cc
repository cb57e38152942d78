#include "replayer/report/replay_report.h"

#include <cstdio>
#include <functional>
#include <iomanip>
#include <sstream>

#include "replayer/metrics/format_bytes.h"
#include "replayer/report/json_quote.h"

namespace vmreplay::replay {
namespace {

std::string Num(uint64_t v) { return std::to_string(v); }
std::string Fixed(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
std::string Bytes(uint64_t v) { return FormatBytes(v); }
std::string OptD(const std::optional<double>& v) { return v ? Fixed(*v) : "n/a"; }
std::string OptB(const std::optional<uint64_t>& v) { return v ? Bytes(*v) : "n/a"; }
std::string JsonString(const std::string& s) { return JsonQuote(s); }
std::string JD(const std::optional<double>& v) { return v ? Fixed(*v, 6) : "null"; }
std::string JN(const std::optional<uint64_t>& v) { return v ? Num(*v) : "null"; }
// RFC 4180: a field holding a comma or quote is quoted, quotes doubled (manager labels have
// commas).
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::vector<TableRow> TableRows(const std::vector<ReplayMetrics>& runs) {
  using Getter = std::function<std::string(const ReplayMetrics&)>;
  std::vector<std::pair<std::string, Getter>> rows = {
      {"events", [](const auto& m) { return Num(m.events); }},
      {"threads",
       [](const auto& m) {
         return m.threaded ? Num(m.recorded_threads) + " on " + Num(m.replay_threads) + ", " +
                                 Num(m.cross_thread_waits) + " waits"
                           : std::string("single");
       }},
      {"replayed calls", [](const auto& m) { return Num(m.replayed); }},
      {"skipped (not memory)", [](const auto& m) { return Num(m.skipped_not_memory); }},
      {"skipped (dependent)", [](const auto& m) { return Num(m.skipped_dependent); }},
      {"skipped (free of NULL)", [](const auto& m) { return Num(m.skipped_null_free); }},
      {"skipped (the heap's own pages)",
       [](const auto& m) { return Num(m.skipped_heap_internal); }},
      {"untranslatable", [](const auto& m) { return Num(m.untranslatable); }},
      {"divergences", [](const auto& m) { return Num(m.divergences); }},
      {"peak commit", [](const auto& m) { return Bytes(m.vm.peak_committed_bytes); }},
      {"  at event", [](const auto& m) { return Num(m.vm.peak_committed_event); }},
      {"peak reservation", [](const auto& m) { return Bytes(m.vm.peak_reserved_bytes); }},
      {"  at event", [](const auto& m) { return Num(m.vm.peak_reserved_event); }},
      {"commit at end", [](const auto& m) { return Bytes(m.vm.committed_bytes); }},
      {"AS fragmentation end", [](const auto& m) { return OptD(m.vm.fragmentation); }},
      {"AS fragmentation max", [](const auto& m) { return OptD(m.max_fragmentation); }},
      {"out of space", [](const auto& m) { return Num(m.vm.out_of_space); }},
      {"commit-limit refusals", [](const auto& m) { return Num(m.vm.commit_limit_refusals); }},
      {"RSS high water", [](const auto& m) { return OptB(m.vm.rss_high_water_bytes); }},
      {"foreign mappings",
       [](const auto& m) {
         return Num(m.vm.foreign_mappings) + " (" + Bytes(m.vm.foreign_bytes) + ")" +
                (m.vm.foreign_skipped != 0 ? ", " + Num(m.vm.foreign_skipped) + " not placed"
                                           : std::string());
       }},
      {"heap calls", [](const auto& m) { return Num(m.heap_calls); }},
      {"heap peak live", [](const auto& m) { return Bytes(m.peak_live_bytes); }},
      {"heap footprint@peak", [](const auto& m) { return OptB(m.footprint_at_live_peak); }},
      {"heap frag@peak", [](const auto& m) { return OptD(m.heap_fragmentation_at_peak()); }},
      {"heap J&W #4", [](const auto& m) { return OptD(m.johnstone_wilson_4()); }},
      {"GetMemoryLoad answers", [](const auto& m) { return Num(m.memory_load_answers); }},
      {"max memory load %", [](const auto& m) { return Num(m.max_memory_load); }},
      {"notifications L/N/H",
       [](const auto& m) {
         return Num(m.notifications_low) + "/" + Num(m.notifications_neutral) + "/" +
                Num(m.notifications_high);
       }},
      {"replay events/s", [](const auto& m) { return Fixed(m.events_per_second(), 0); }},
  };
  // Manager figures, platform calls, system calls and latency rows for every figure / kind / op
  // any run has.
  std::vector<std::pair<std::string, ManagerFigure::Unit>> figures;
  for (const auto& m : runs) {
    for (const ManagerFigure& f : m.manager_figures) {
      bool seen = false;
      for (const auto& [name, unit] : figures) seen |= name == f.name;
      if (!seen) figures.emplace_back(f.name, f.unit);
    }
  }
  for (const auto& [name, unit] : figures) {
    rows.push_back({name, [name = name, unit = unit](const auto& m) {
                      for (const ManagerFigure& f : m.manager_figures) {
                        if (f.name != name) continue;
                        if (unit == ManagerFigure::Unit::kBytes) {
                          return Bytes(static_cast<uint64_t>(f.value));
                        }
                        if (unit == ManagerFigure::Unit::kRatio) return Fixed(f.value);
                        return Num(static_cast<uint64_t>(f.value));
                      }
                      return std::string("-");
                    }});
  }
  for (const auto& [title, member] :
       {std::pair{std::string("platform calls "), &PlatformStats::calls},
        std::pair{std::string("syscalls "), &PlatformStats::syscalls}}) {
    std::vector<std::string> kinds;
    for (const auto& m : runs) {
      for (const auto& [k, v] : m.vm.*member) {
        if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
      }
    }
    for (const std::string& k : kinds) {
      rows.push_back({title + k, [k, member = member](const auto& m) {
                        auto it = (m.vm.*member).find(k);
                        return it == (m.vm.*member).end() ? std::string("0") : Num(it->second);
                      }});
    }
  }
  for (int op = 0; op < kOpCount; ++op) {
    bool used = false;
    for (const auto& m : runs) used |= m.latency[op].count() > 0;
    if (!used) continue;
    const std::string name(OpName(static_cast<Op>(op)));
    rows.push_back({name + " ns p50/p99/max", [op](const auto& m) {
                      const LogHistogram& h = m.latency[op];
                      return Num(h.Percentile(0.5)) + "/" + Num(h.Percentile(0.99)) + "/" +
                             Num(h.max());
                    }});
  }
  std::vector<TableRow> table;
  for (const auto& r : rows) {
    TableRow row{r.first, {}};
    for (const auto& m : runs) row.cells.push_back(r.second(m));
    table.push_back(std::move(row));
  }
  return table;
}

void WriteTable(const std::vector<ReplayMetrics>& runs, std::ostream& out) {
  const std::vector<TableRow> rows = TableRows(runs);
  size_t label_width = 8;
  for (const auto& r : rows) label_width = std::max(label_width, r.label.size());
  // Two header lines: the manager, then the platform and heap it ran on.
  auto second = [](const ReplayMetrics& m) {
    return m.platform + "/" + m.heap + (m.threaded ? "+threads" : "");
  };
  std::vector<size_t> widths;
  for (size_t i = 0; i < runs.size(); ++i) {
    size_t w = std::max(runs[i].manager.size(), second(runs[i]).size());
    for (const auto& r : rows) w = std::max(w, r.cells[i].size());
    widths.push_back(w);
  }
  for (int line = 0; line < 2; ++line) {
    out << std::left << std::setw(static_cast<int>(label_width))
        << (line == 0 ? "manager" : "platform/heap") << std::right;
    for (size_t i = 0; i < runs.size(); ++i) {
      out << "  " << std::setw(static_cast<int>(widths[i]))
          << (line == 0 ? runs[i].manager : second(runs[i]));
    }
    out << "\n";
  }
  for (const auto& r : rows) {
    out << std::left << std::setw(static_cast<int>(label_width)) << r.label << std::right;
    for (size_t i = 0; i < runs.size(); ++i) {
      out << "  " << std::setw(static_cast<int>(widths[i])) << r.cells[i];
    }
    out << "\n";
  }
  bool noted = false;
  for (const auto& m : runs) {
    for (const std::string& note : m.notes) {
      out << (noted ? "" : "\n") << "note (" << m.label() << "): " << note << "\n";
      noted = true;
    }
  }
  for (const auto& m : runs) {
    if (m.first_divergences.empty()) continue;
    out << "\nfirst divergences on " << m.label() << ":\n";
    for (const auto& d : m.first_divergences) {
      out << "  #" << d.event_index << " " << OpName(d.op) << ": " << d.what << "\n";
    }
  }
}

void WriteJson(const std::string& trace, const std::vector<ReplayMetrics>& runs,
               std::ostream& out) {
  out << "{\"schema\":\"vmreplay.replay/2\",\"trace\":" << JsonString(trace) << ",\"runs\":[";
  for (size_t i = 0; i < runs.size(); ++i) {
    const ReplayMetrics& m = runs[i];
    if (i) out << ",";
    out << "{\"backend\":" << JsonString(m.backend()) << ",\"manager\":" << JsonString(m.manager)
        << ",\"platform\":" << JsonString(m.platform) << ",\"heap\":" << JsonString(m.heap)
        << ",\"events\":" << m.events << ",\"replayed\":" << m.replayed
        << ",\"skipped_not_memory\":" << m.skipped_not_memory
        << ",\"skipped_dependent\":" << m.skipped_dependent
        << ",\"skipped_null_free\":" << m.skipped_null_free
        << ",\"skipped_heap_internal\":" << m.skipped_heap_internal
        << ",\"untranslatable\":" << m.untranslatable << ",\"divergences\":" << m.divergences
        << ",\"stopped_early\":" << (m.stopped_early ? "true" : "false")
        << ",\"threads\":{\"mode\":" << (m.threaded ? "\"replay\"" : "\"single\"")
        << ",\"recorded\":" << m.recorded_threads << ",\"replay\":" << m.replay_threads
        << ",\"cross_thread_waits\":" << m.cross_thread_waits << "}"
        << ",\"first_divergences\":[";
    for (size_t j = 0; j < m.first_divergences.size(); ++j) {
      const Divergence& d = m.first_divergences[j];
      if (j) out << ",";
      out << "{\"event\":" << d.event_index << ",\"op\":" << JsonString(std::string(OpName(d.op)))
          << ",\"what\":" << JsonString(d.what) << "}";
    }
    out << "],\"peak_commit_bytes\":" << m.vm.peak_committed_bytes
        << ",\"peak_commit_event\":" << m.vm.peak_committed_event
        << ",\"peak_reserve_bytes\":" << m.vm.peak_reserved_bytes
        << ",\"peak_reserve_event\":" << m.vm.peak_reserved_event
        << ",\"commit_end_bytes\":" << m.vm.committed_bytes
        << ",\"fragmentation_end\":" << JD(m.vm.fragmentation)
        << ",\"fragmentation_max\":" << JD(m.max_fragmentation)
        << ",\"out_of_space\":" << m.vm.out_of_space
        << ",\"commit_limit_refusals\":" << m.vm.commit_limit_refusals
        << ",\"commit_limit\":" << JN(m.vm.commit_limit)
        << ",\"foreign_mappings\":{\"placed\":" << m.vm.foreign_mappings
        << ",\"bytes\":" << m.vm.foreign_bytes << ",\"skipped\":" << m.vm.foreign_skipped << "}";
    for (const auto& [key, counts] :
         {std::pair{"platform_calls", &m.vm.calls}, std::pair{"syscalls", &m.vm.syscalls}}) {
      out << ",\"" << key << "\":{";
      bool first_kind = true;
      for (const auto& [k, v] : *counts) {
        out << (first_kind ? "" : ",") << JsonString(k) << ":" << v;
        first_kind = false;
      }
      out << "}";
    }
    out << ",\"manager_figures\":{";
    for (size_t f = 0; f < m.manager_figures.size(); ++f) {
      const ManagerFigure& fig = m.manager_figures[f];
      out << (f ? "," : "") << JsonString(fig.name) << ":"
          << (fig.unit == ManagerFigure::Unit::kRatio ? Fixed(fig.value, 6)
                                                      : Num(static_cast<uint64_t>(fig.value)));
    }
    out << "},\"notes\":[";
    for (size_t n = 0; n < m.notes.size(); ++n) out << (n ? "," : "") << JsonString(m.notes[n]);
    out << "],\"rss_high_water_bytes\":" << JN(m.vm.rss_high_water_bytes)
        << ",\"heap_calls\":" << m.heap_calls << ",\"peak_live_bytes\":" << m.peak_live_bytes
        << ",\"peak_live_event\":" << m.peak_live_event
        << ",\"footprint_at_live_peak\":" << JN(m.footprint_at_live_peak)
        << ",\"peak_footprint\":" << JN(m.peak_footprint)
        << ",\"heap_fragmentation_at_peak\":" << JD(m.heap_fragmentation_at_peak())
        << ",\"johnstone_wilson_4\":" << JD(m.johnstone_wilson_4())
        << ",\"latency_every\":" << m.latency_every << ",\"latency_ns\":{";
    bool first = true;
    for (int op = 0; op < kOpCount; ++op) {
      const LogHistogram& h = m.latency[op];
      if (h.count() == 0) continue;
      out << (first ? "" : ",") << JsonString(std::string(OpName(static_cast<Op>(op))))
          << ":{\"count\":" << h.count() << ",\"mean\":" << Fixed(h.mean(), 1)
          << ",\"p50\":" << h.Percentile(0.5) << ",\"p90\":" << h.Percentile(0.9)
          << ",\"p99\":" << h.Percentile(0.99) << ",\"p999\":" << h.Percentile(0.999)
          << ",\"max\":" << h.max() << "}";
      first = false;
    }
    out << "},\"memory_load_answers\":" << m.memory_load_answers
        << ",\"max_memory_load\":" << m.max_memory_load
        << ",\"notifications\":{\"low\":" << m.notifications_low
        << ",\"neutral\":" << m.notifications_neutral << ",\"high\":" << m.notifications_high
        << "},\"recorded_notifications\":" << m.recorded_notifications
        << ",\"wall_seconds\":" << Fixed(m.wall_seconds, 6)
        << ",\"events_per_second\":" << Fixed(m.events_per_second(), 0) << "}";
  }
  out << "]}\n";
}

void WriteCsv(const std::vector<ReplayMetrics>& runs, std::ostream& out) {
  out << "manager,platform,heap,events,replayed,skipped_not_memory,skipped_dependent,"
         "untranslatable,"
         "divergences,peak_commit_bytes,peak_commit_event,peak_reserve_bytes,"
         "peak_reserve_event,fragmentation_end,fragmentation_max,peak_live_bytes,"
         "heap_fragmentation_at_peak,johnstone_wilson_4,notifications_low,"
         "notifications_neutral,notifications_high,events_per_second,threads,skipped_null_free,"
         "skipped_heap_internal\n";
  auto d = [](const std::optional<double>& v) { return v ? Fixed(*v, 6) : std::string(); };
  for (const auto& m : runs) {
    out << CsvField(m.manager) << "," << m.platform << "," << m.heap << "," << m.events << ","
        << m.replayed << "," << m.skipped_not_memory << "," << m.skipped_dependent << ","
        << m.untranslatable << "," << m.divergences << "," << m.vm.peak_committed_bytes << ","
        << m.vm.peak_committed_event << "," << m.vm.peak_reserved_bytes << ","
        << m.vm.peak_reserved_event << "," << d(m.vm.fragmentation) << "," << d(m.max_fragmentation)
        << "," << m.peak_live_bytes << "," << d(m.heap_fragmentation_at_peak()) << ","
        << d(m.johnstone_wilson_4()) << "," << m.notifications_low << "," << m.notifications_neutral
        << "," << m.notifications_high << "," << Fixed(m.events_per_second(), 0) << ","
        << (m.threaded ? "replay" : "single") << "," << m.skipped_null_free << ","
        << m.skipped_heap_internal << "\n";
  }
}

}  // namespace vmreplay::replay
