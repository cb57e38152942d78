// `vmreplay TRACE [--manager=M ...] [--platform=P ...] [--heap=H ...]` (also `vmreplay replay
// TRACE ...`): replays the trace on every manager x platform x heap cell, one after the other,
// and prints them side by side. `--backend=sim|os|arena` names a manager/platform pair the old
// way (sim = passthrough on sim, os = passthrough on os, arena = arena on os).
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "replayer/cli/command.h"
#include "replayer/engine/replay_engine.h"
#include "replayer/report/html_report.h"
#include "replayer/report/perfetto_trace.h"
#include "replayer/report/replay_report.h"
#include "replayer/report/timeline_replay.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

int RunReplay(const std::vector<std::string>& args) {
  std::string trace;
  std::vector<std::string> backends, managers, platforms;
  std::string arena_size;
  std::vector<std::string> heaps;
  std::vector<std::string> threads;
  std::string read_ahead;
  std::string latency = "all";
  replay::ReplayOptions options;
  std::string commit_limit = "0";
  bool json = false, csv = false, check = false;
  std::string report, perfetto;
  po::options_description desc("replay options");
  desc.add_options()("trace", po::value(&trace)->required(), "trace file (binary or text)")(
      "manager", po::value(&managers)->composing(),
      "memory manager: passthrough, arena, decommit-cache, large-pages, budget, "
      "plugin:LIB.so; knobs as NAME:KNOB=VALUE,... (repeatable; vmreplay managers lists them)")(
      "platform", po::value(&platforms)->composing(),
      "platform under the managers: sim, os (repeatable; default sim)")(
      "backend", po::value(&backends)->composing(),
      "a manager/platform pair the old way: sim, os, arena (= arena on os), or MANAGER/PLATFORM "
      "(repeatable)")("heap", po::value(&heaps)->composing(),
                      "heap backend: system, boost, jemalloc, mimalloc, tcmalloc (repeatable)")(
      "placement", po::value(&options.vm.placement)->default_value("faithful"),
      "sim platform: faithful | bottom-up | best-fit | next-fit")(
      "address-space", po::value(&options.vm.address_space)->default_value("64"),
      "sim: 32-2g | 32-3g | 32-4g | 64")(
      "commit-limit", po::value(&commit_limit),
      "bytes the platform lets be committed (default: sim unlimited, os the machine's RAM + "
      "swap)")("arena-size", po::value(&arena_size),
               "arena: bytes reserved up front (the same as --manager=arena:size=N)")(
      "heap-capacity", po::value(&options.heap_options.capacity)->default_value(1ull << 30),
      "boost: fixed capacity of the managed buffer")(
      "max-divergences", po::value(&options.max_divergences_kept)->default_value(10),
      "divergences listed per backend")("check", po::bool_switch(&check),
                                        "exit 1 when any backend diverges")(
      "strict", po::bool_switch(&options.strict), "stop each replay at its first divergence")(
      "json", po::bool_switch(&json),
      "JSON output (schema vmreplay.replay/2, replayer/report/replay_report.h)")(
      "csv", po::bool_switch(&csv), "CSV output")(
      "report", po::value(&report), "also write a self-contained HTML report to this file")(
      "perfetto", po::value(&perfetto),
      "also write a Perfetto / Chrome trace-event JSON of commit over time to this file")(
      "threads", po::value(&threads)->composing(),
      "single: every event in trace order on one thread; replay: each recorded thread on a "
      "thread of its own, ordered as the trace implies (repeatable; default single)")(
      "max-threads", po::value(&options.max_threads)->default_value(options.max_threads),
      "--threads=replay: most replay threads (more recorded threads share them)")(
      "latency", po::value(&latency)->default_value("all"),
      "which calls are timed: all, sample:N (about one call in N, at random), off (no clock "
      "reads: the deterministic figures only)")(
      "read-ahead", po::value(&read_ahead)->default_value("auto"),
      "decode the trace on a thread of its own, ahead of the replay: auto (when the trace's "
      "events are costly to decode), on, off");
  po::positional_options_description pos;
  pos.add("trace", 1);
  po::variables_map vm;
  const int rc = ParseArgs(
      args, "vmreplay TRACE [--manager=M ...] [--platform=sim|os ...] [--heap=H ...] [options]",
      desc, pos, &vm);
  if (rc >= 0) return rc;
  if (threads.empty()) threads.push_back("single");
  for (const std::string& t : threads) {
    if (t != "single" && t != "replay") {
      PrintError("--threads: '" + t + "' is not one of: single, replay");
      return kExitUsage;
    }
  }
  if (options.max_threads == 0) {
    PrintError("--max-threads: must be at least 1");
    return kExitUsage;
  }
  if (const Status s = replay::ParseBytes(commit_limit, &options.vm.commit_limit); !s.ok()) {
    PrintError("--commit-limit: " + s.message());
    return kExitUsage;
  }
  if (const Status s = replay::ParseLatency(latency, &options.latency_every); !s.ok()) {
    PrintError(s.message());
    return kExitUsage;
  }
  if (read_ahead == "auto") {
    options.read_ahead = replay::ReadAhead::kAuto;
  } else if (read_ahead == "on") {
    options.read_ahead = replay::ReadAhead::kOn;
  } else if (read_ahead == "off") {
    options.read_ahead = replay::ReadAhead::kOff;
  } else {
    PrintError("--read-ahead: '" + read_ahead + "' is not one of: auto, on, off");
    return 2;
  }
  // The cells: --backend pairs, then every --manager on every --platform.
  std::vector<std::pair<std::string, std::string>> cells;
  for (const std::string& b : backends) {
    std::string manager, platform;
    if (const Status s = replay::BackendCell(b, &manager, &platform); !s.ok()) {
      PrintError("--backend: " + s.message());
      return kExitUsage;
    }
    cells.emplace_back(manager, platform);
  }
  if (!managers.empty() || !platforms.empty() || cells.empty()) {
    if (managers.empty()) managers.push_back("passthrough");
    if (platforms.empty()) platforms.push_back("sim");
    for (const std::string& m : managers) {
      for (const std::string& p : platforms) cells.emplace_back(m, p);
    }
  }
  for (auto& [manager, platform] : cells) {
    if (!arena_size.empty() && manager == "arena") manager += ":size=" + arena_size;
    replay::ManagerSpec spec;
    if (const Status s = replay::ManagerSpec::Parse(manager, &spec); !s.ok()) {
      PrintError("--manager: " + s.message());
      return kExitUsage;
    }
    if (platform != "sim" && platform != "os") {
      PrintError("--platform: '" + platform + "' is not one of: sim, os");
      return kExitUsage;
    }
  }
  if (heaps.empty()) heaps.push_back("system");
  options.progress = !json && !csv && isatty(STDERR_FILENO);
  std::vector<replay::ReplayMetrics> runs;
  for (const auto& [manager, platform] : cells) {
    for (const std::string& h : heaps) {
      for (const std::string& t : threads) {
        options.manager = manager;
        options.platform = platform;
        options.heap = h;
        options.threaded = t == "replay";
        replay::ReplayMetrics m;
        // The reports need commit over time, which only the timeline driver records.
        const Status s = report.empty() && perfetto.empty()
                             ? replay::ReplayTrace(trace, options, &m)
                             : replay::ReplayTraceWithTimeline(
                                   trace, options, replay::ReplayTimeline::kDefaultMaxSamples, &m);
        if (!s.ok()) {
          PrintError(s.message());
          return kExitFailure;
        }
        runs.push_back(std::move(m));
      }
    }
  }
  for (const auto& [path, html] : {std::pair{&report, true}, std::pair{&perfetto, false}}) {
    if (path->empty()) continue;
    std::ofstream out(*path, std::ios::trunc);
    if (out) {
      if (html) {
        replay::WriteHtmlReport(trace, runs, out);
      } else {
        replay::WritePerfettoTrace(trace, runs, out);
      }
    }
    if (!out) {
      PrintError(*path + ": cannot write");
      return kExitFailure;
    }
  }
  if (json) {
    replay::WriteJson(trace, runs, std::cout);
  } else if (csv) {
    replay::WriteCsv(runs, std::cout);
  } else {
    replay::WriteTable(runs, std::cout);
  }
  if (check) {
    for (const auto& m : runs) {
      if (m.divergences != 0) return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace vmreplay::cli
