// `vmreplay gate --baseline FILE [--traces T ... | --corpus DIR] [--backend B ...]
// [--repetitions N] [--update-baseline]`: regression gate for CI (replayer/gate/gate.h).
// Exit 0: every figure within tolerance (or the baseline was rewritten); 1: a regression;
// 2: an error (missing or bad baseline, a trace that cannot be replayed, a trace or backend the
// baseline does not cover).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <thread>

#include "replayer/cli/command.h"
#include "replayer/gate/baseline.h"
#include "replayer/gate/gate.h"

namespace vmreplay::cli {

namespace po = boost::program_options;

namespace {

constexpr int kGateError = 2;

// Every *.pb under `dir`, sorted, so the baseline's order is stable.
Status CorpusTraces(const std::string& dir, std::vector<std::string>* out) {
  std::error_code ec;
  std::vector<std::string> found;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".pb") {
      found.push_back(it->path().generic_string());
    }
  }
  if (ec) return Status::Error(dir + ": " + ec.message());
  if (found.empty()) return Status::Error(dir + ": no *.pb traces");
  std::sort(found.begin(), found.end());
  out->insert(out->end(), found.begin(), found.end());
  return Status::Ok();
}

// Puts `entries` into *into: an entry of the same trace and backend is replaced, the others
// stay (before the new ones).
void ReplaceEntries(const std::vector<gate::Entry>& entries, std::vector<gate::Entry>* into) {
  auto replaced = [&](const gate::Entry& old) {
    return std::any_of(entries.begin(), entries.end(), [&](const gate::Entry& e) {
      return e.trace == old.trace && e.backend == old.backend;
    });
  };
  into->erase(std::remove_if(into->begin(), into->end(), replaced), into->end());
  into->insert(into->end(), entries.begin(), entries.end());
}

}  // namespace

int RunGate(const std::vector<std::string>& args) {
  std::string baseline_path, corpus, reference, heap;
  std::vector<std::string> traces, backends, merge;
  int repetitions = 0;
  size_t jobs = 1;
  bool update = false, all = false;
  po::options_description desc("gate options");
  desc.add_options()("baseline", po::value(&baseline_path)->required(),
                     "baseline file (schema vmreplay.gate/1)")(
      "traces", po::value(&traces)->multitoken()->composing(),
      "traces to gate (default: the baseline's)")("corpus", po::value(&corpus),
                                                  "gate every *.pb under this directory")(
      "backend", po::value(&backends)->composing(),
      "VM backends (repeatable; default: the baseline's)")(
      "reference", po::value(&reference),
      "backend timing ratios are relative to (default: the "
      "baseline's, else sim)")("heap", po::value(&heap),
                               "heap backend (default: the baseline's, else system)")(
      "repetitions", po::value(&repetitions),
      "replays per trace and backend; timings are medians (default: the baseline's, else 3)")(
      "jobs,j", po::value(&jobs),
      "traces replayed at once (default 1; 0 = one per core). Timing ratios compare cells of "
      "one trace, interleaved, so they stay comparable; cells on os or plugins run one at a time")(
      "update-baseline", po::bool_switch(&update),
      "rewrite the baseline with this run's figures (tolerances kept; entries of traces and "
      "backends not run now stay)")(
      "merge", po::value(&merge)->composing(),
      "no replay: write into --baseline the entries of these baselines (repeatable; e.g. one per "
      "CI shard, each made with --traces and --update-baseline), later files first")(
      "all", po::bool_switch(&all), "list every figure, not only those that moved");
  po::positional_options_description pos;
  po::variables_map vm;
  const int rc = ParseArgs(args,
                           "vmreplay gate --baseline FILE [--traces T ... | --corpus DIR] "
                           "[--backend B ...] [--repetitions N] [--update-baseline] "
                           "[--merge SHARD.json ...]",
                           desc, pos, &vm);
  if (rc >= 0) return rc;

  gate::Baseline baseline;
  const bool exists = std::filesystem::exists(baseline_path);
  if (exists || (!update && merge.empty())) {
    const Status s = gate::LoadBaseline(baseline_path, &baseline);
    if (!s.ok()) {
      PrintError(s.message());
      return kGateError;
    }
  } else {
    baseline.tolerances = gate::DefaultTolerances();
  }
  if (!merge.empty()) {
    // One baseline from the shards of a corpus gated by several CI jobs: the union of their
    // entries (a trace/backend in more than one: the last file's), settings from the first
    // unless --baseline already exists.
    for (size_t i = 0; i < merge.size(); ++i) {
      gate::Baseline shard;
      if (const Status s = gate::LoadBaseline(merge[i], &shard); !s.ok()) {
        PrintError(s.message());
        return kGateError;
      }
      if (i == 0 && !exists) {
        baseline = shard;
      } else {
        ReplaceEntries(shard.entries, &baseline.entries);
      }
    }
    if (const Status s = gate::SaveBaseline(baseline, baseline_path); !s.ok()) {
      PrintError(s.message());
      return kGateError;
    }
    std::cout << "gate: wrote " << baseline_path << " (" << baseline.entries.size()
              << " trace/backend entries from " << merge.size() << " file(s))\n";
    return kExitOk;
  }
  if (!corpus.empty()) {
    const Status s = CorpusTraces(corpus, &traces);
    if (!s.ok()) {
      PrintError(s.message());
      return kGateError;
    }
  }
  if (traces.empty()) {
    for (const gate::Entry& e : baseline.entries) {
      if (std::find(traces.begin(), traces.end(), e.trace) == traces.end()) {
        traces.push_back(e.trace);
      }
    }
  }
  if (backends.empty()) {
    for (const gate::Entry& e : baseline.entries) {
      if (std::find(backends.begin(), backends.end(), e.backend) == backends.end()) {
        backends.push_back(e.backend);
      }
    }
  }
  if (traces.empty()) {
    PrintError("no traces: pass --traces or --corpus (the baseline lists none)");
    return kGateError;
  }
  gate::GateOptions options;
  options.traces = traces;
  options.backends = backends;
  options.reference = reference.empty() ? baseline.reference_backend : reference;
  options.heap = heap.empty() ? baseline.heap : heap;
  options.repetitions = repetitions > 0 ? repetitions : baseline.repetitions;
  options.jobs = jobs == 0 ? std::max(1u, std::thread::hardware_concurrency()) : jobs;

  std::vector<gate::Entry> now;
  if (const Status s = gate::Measure(options, &now); !s.ok()) {
    PrintError(s.message());
    return kGateError;
  }
  if (update) {
    baseline.reference_backend = options.reference;
    baseline.heap = options.heap;
    baseline.repetitions = options.repetitions;
    ReplaceEntries(now, &baseline.entries);  // another shard's entries stay
    if (const Status s = gate::SaveBaseline(baseline, baseline_path); !s.ok()) {
      PrintError(s.message());
      return kGateError;
    }
    std::cout << "gate: wrote " << baseline_path << " (" << baseline.entries.size()
              << " trace/backend entries, " << now.size() << " measured now)\n";
    return kExitOk;
  }
  const gate::GateResult result = gate::Compare(baseline, now);
  gate::PrintGateResult(result, all, std::cout);
  if (!result.unknown.empty()) {
    PrintError("the baseline does not cover every trace/backend (run with --update-baseline)");
    return kGateError;
  }
  return result.regressions > 0 ? kExitFailure : kExitOk;
}

}  // namespace vmreplay::cli
