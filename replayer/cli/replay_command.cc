// `vmreplay TRACE --backend=B ... [--heap=H ...]` (also `vmreplay replay TRACE ...`): replays the
// trace on every (backend, heap) pair, one after the other, and prints them side by side.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "replayer/cli/command.h"
#include "replayer/replay_engine.h"
#include "replayer/replay_report.h"
#include "replayer/report/html_report.h"
#include "replayer/report/perfetto_trace.h"
#include "replayer/report/timeline_replay.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

int RunReplay(const std::vector<std::string>& args) {
  std::string trace;
  std::vector<std::string> backends;
  std::vector<std::string> heaps;
  std::vector<std::string> threads;
  std::string read_ahead;
  replay::ReplayOptions options;
  std::string commit_limit = "0";
  bool json = false, csv = false, check = false;
  std::string report, perfetto;
  po::options_description desc("replay options");
  desc.add_options()("trace", po::value(&trace)->required(), "trace file (binary or text)")(
      "backend", po::value(&backends)->composing(), "VM backend: sim, os, arena (repeatable)")(
      "heap", po::value(&heaps)->composing(),
      "heap backend: system, boost, jemalloc, mimalloc, tcmalloc (repeatable)")(
      "placement", po::value(&options.vm.placement)->default_value("faithful"),
      "sim: faithful | bottom-up")("address-space",
                                   po::value(&options.vm.address_space)->default_value("64"),
                                   "sim: 32-2g | 32-3g | 32-4g | 64")(
      "commit-limit", po::value(&commit_limit), "bytes that may be committed (0 = unlimited)")(
      "arena-size", po::value(&options.vm.arena_size)->default_value(64ull << 30),
      "arena: bytes reserved up front")(
      "heap-capacity", po::value(&options.heap_options.capacity)->default_value(1ull << 30),
      "boost: fixed capacity of the managed buffer")(
      "max-divergences", po::value(&options.max_divergences_kept)->default_value(10),
      "divergences listed per backend")("check", po::bool_switch(&check),
                                        "exit 1 when any backend diverges")(
      "strict", po::bool_switch(&options.strict), "stop each replay at its first divergence")(
      "json", po::bool_switch(&json), "JSON output (schema vmreplay.replay/1)")(
      "csv", po::bool_switch(&csv), "CSV output")(
      "report", po::value(&report), "also write a self-contained HTML report to this file")(
      "perfetto", po::value(&perfetto),
      "also write a Perfetto / Chrome trace-event JSON of commit over time to this file")(
      "threads", po::value(&threads)->composing(),
      "single: every event in trace order on one thread; replay: each recorded thread on a "
      "thread of its own, ordered as the trace implies (repeatable; default single)")(
      "max-threads", po::value(&options.max_threads)->default_value(options.max_threads),
      "--threads=replay: most replay threads (more recorded threads share them)")(
      "read-ahead", po::value(&read_ahead)->default_value("auto"),
      "decode the trace on a thread of its own, ahead of the replay: auto (when the trace's "
      "events are costly to decode), on, off");
  po::positional_options_description pos;
  pos.add("trace", 1);
  po::variables_map vm;
  const int rc = ParseArgs(
      args, "vmreplay TRACE [--backend=sim|os|arena ...] [--heap=H ...] [options]", desc, pos, &vm);
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
  try {
    options.vm.commit_limit = std::stoull(commit_limit);
  } catch (...) {
    PrintError("--commit-limit: not a number");
    return kExitUsage;
  }
  if (options.vm.commit_limit == 0) options.vm.commit_limit = UINT64_MAX;
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
  if (backends.empty()) backends.push_back("sim");
  if (heaps.empty()) heaps.push_back("system");
  options.progress = !json && !csv && isatty(STDERR_FILENO);
  std::vector<replay::ReplayMetrics> runs;
  for (const std::string& b : backends) {
    for (const std::string& h : heaps) {
      for (const std::string& t : threads) {
        options.backend = b;
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
