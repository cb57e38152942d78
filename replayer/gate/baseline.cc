#include "replayer/gate/baseline.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "replayer/report/json_value.h"

namespace vmreplay::gate {
namespace {

const char* WorseName(Tolerance::Worse w) {
  switch (w) {
    case Tolerance::Worse::kHigher:
      return "higher";
    case Tolerance::Worse::kLower:
      return "lower";
    case Tolerance::Worse::kAny:
      break;
  }
  return "any";
}

// Integers (byte and event counts) exactly; fractions and ratios to 9 significant digits.
std::string Num(double v) {
  char buf[48];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

}  // namespace

Tolerance Baseline::ToleranceOf(const std::string& metric) const {
  auto it = tolerances.find(metric);
  if (it == tolerances.end()) it = tolerances.find(metric.substr(0, metric.find('.')));
  return it == tolerances.end() ? Tolerance{} : it->second;
}

const Entry* Baseline::Find(const std::string& trace, const std::string& backend) const {
  for (const Entry& e : entries) {
    if (e.trace == trace && e.backend == backend) return &e;
  }
  return nullptr;
}

std::map<std::string, Tolerance> DefaultTolerances() {
  using W = Tolerance::Worse;
  return {
      {"events", {0, W::kAny}},
      {"replayed", {0, W::kAny}},
      {"skipped_dependent", {0, W::kHigher}},
      {"untranslatable", {0, W::kHigher}},
      {"divergences", {0, W::kHigher}},
      {"peak_commit_bytes", {0, W::kHigher}},
      {"peak_reserve_bytes", {0, W::kHigher}},
      {"commit_end_bytes", {0, W::kHigher}},
      {"fragmentation_max", {0, W::kHigher}},
      {"fragmentation_end", {0, W::kHigher}},
      {"heap_calls", {0, W::kAny}},
      {"peak_live_bytes", {0, W::kAny}},
      {"notifications", {0, W::kAny}},
      {"platform_calls", {0, W::kHigher}},
      // A manager's own figures ("manager.cache hits (commits)", ...): any move is news.
      {"manager", {0, W::kAny}},
      // Ratios of two medians on a shared 2-core machine: only a gross slowdown should fail.
      {"events_per_second_ratio", {60, W::kLower}},
      {"p50_ratio", {150, W::kHigher}},
      {"p99_ratio", {400, W::kHigher}},
  };
}

std::string NormalTracePath(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().generic_string();
}

Status LoadBaseline(const std::string& path, Baseline* out) {
  if (!std::filesystem::exists(path)) {
    return Status::Error(path + ": no such baseline (create it with --update-baseline)");
  }
  json::Value doc;
  VMREPLAY_RETURN_IF_ERROR(json::ParseFile(path, &doc));
  auto bad = [&](const std::string& what) { return Status::Error(path + ": " + what); };
  const json::Value* schema = doc.Find("schema");
  if (schema == nullptr || !schema->is_string()) return bad("no \"schema\"");
  if (schema->string() != kBaselineSchema) {
    return bad("schema \"" + schema->string() + "\" is not " + kBaselineSchema);
  }
  Baseline b;
  b.tolerances.clear();
  if (const json::Value* v = doc.Find("reference_backend"); v && v->is_string()) {
    b.reference_backend = v->string();
  }
  if (const json::Value* v = doc.Find("heap"); v && v->is_string()) b.heap = v->string();
  if (const json::Value* v = doc.Find("repetitions"); v && v->is_number()) {
    b.repetitions = static_cast<int>(v->number());
  }
  if (b.repetitions < 1) return bad("repetitions must be >= 1");
  if (const json::Value* t = doc.Find("tolerances"); t && t->is_object()) {
    for (const auto& [name, spec] : t->members()) {
      Tolerance tol;
      const json::Value* p = spec.Find("percent");
      if (p == nullptr || !p->is_number() || p->number() < 0) {
        return bad("tolerance " + name + ": \"percent\" must be a number >= 0");
      }
      tol.percent = p->number();
      if (const json::Value* w = spec.Find("worse"); w && w->is_string()) {
        if (w->string() == "higher") {
          tol.worse = Tolerance::Worse::kHigher;
        } else if (w->string() == "lower") {
          tol.worse = Tolerance::Worse::kLower;
        } else if (w->string() == "any") {
          tol.worse = Tolerance::Worse::kAny;
        } else {
          return bad("tolerance " + name + ": \"worse\" must be higher, lower or any");
        }
      }
      b.tolerances[name] = tol;
    }
  } else {
    b.tolerances = DefaultTolerances();
  }
  const json::Value* entries = doc.Find("entries");
  if (entries == nullptr || !entries->is_array()) return bad("no \"entries\" array");
  for (const json::Value& e : entries->array()) {
    const json::Value* trace = e.Find("trace");
    const json::Value* backend = e.Find("backend");
    const json::Value* metrics = e.Find("metrics");
    if (!trace || !trace->is_string() || !backend || !backend->is_string() || !metrics ||
        !metrics->is_object()) {
      return bad("an entry needs \"trace\", \"backend\" and \"metrics\"");
    }
    Entry entry{NormalTracePath(trace->string()), backend->string(), {}};
    for (const auto& [name, v] : metrics->members()) {
      if (!v.is_number()) return bad("metric " + name + " of " + entry.trace + " is not a number");
      entry.metrics.emplace_back(name, v.number());
    }
    b.entries.push_back(std::move(entry));
  }
  *out = std::move(b);
  return Status::Ok();
}

void WriteBaseline(const Baseline& b, std::ostream& out) {
  out << "{\n  \"schema\": \"" << kBaselineSchema
      << "\",\n  \"reference_backend\": " << json::Quote(b.reference_backend)
      << ",\n  \"heap\": " << json::Quote(b.heap) << ",\n  \"repetitions\": " << b.repetitions
      << ",\n  \"tolerances\": {";
  bool first = true;
  for (const auto& [name, t] : b.tolerances) {
    out << (first ? "\n" : ",\n") << "    " << json::Quote(name)
        << ": {\"percent\": " << Num(t.percent) << ", \"worse\": \"" << WorseName(t.worse) << "\"}";
    first = false;
  }
  out << "\n  },\n  \"entries\": [";
  for (size_t i = 0; i < b.entries.size(); ++i) {
    const Entry& e = b.entries[i];
    out << (i ? ",\n" : "\n") << "    {\"trace\": " << json::Quote(e.trace)
        << ", \"backend\": " << json::Quote(e.backend) << ", \"metrics\": {";
    for (size_t j = 0; j < e.metrics.size(); ++j) {
      out << (j ? ", " : "") << json::Quote(e.metrics[j].first) << ": " << Num(e.metrics[j].second);
    }
    out << "}}";
  }
  out << "\n  ]\n}\n";
}

Status SaveBaseline(const Baseline& b, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::Error(path + ": cannot write");
    WriteBaseline(b, out);
    if (!out) return Status::Error(path + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Error(path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace vmreplay::gate
