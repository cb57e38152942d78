#include "replayer/report/replay_diff.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <map>
#include <vector>

namespace vmreplay::replay {
namespace {

// Every numeric leaf of a run object, in document order, keyed by its dotted path.
void Flatten(const json::Value& v, const std::string& prefix,
             std::vector<std::pair<std::string, double>>* out) {
  if (v.is_number()) {
    out->emplace_back(prefix, v.number());
  } else if (v.is_object()) {
    for (const auto& [k, child] : v.members()) {
      Flatten(child, prefix.empty() ? k : prefix + "." + k, out);
    }
  }
  // Arrays (first_divergences) and strings are not figures.
}

std::string RunLabel(const json::Value& run) {
  const json::Value* b = run.Find("backend");
  const json::Value* h = run.Find("heap");
  return (b && b->is_string() ? b->string() : "?") + "/" +
         (h && h->is_string() ? h->string() : "?");
}

std::string Number(double v) {
  char buf[48];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", v);
  }
  return buf;
}

std::string Change(double a, double b) {
  if (a == b) return "=";
  if (a == 0) return "new";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", (b - a) / std::fabs(a) * 100);
  return buf;
}

}  // namespace

Status CheckReplaySchema(const json::Value& doc, const std::string& name) {
  const json::Value* schema = doc.is_object() ? doc.Find("schema") : nullptr;
  if (schema == nullptr || !schema->is_string()) {
    return Status::Error(name + ": not a vmreplay replay result (no \"schema\"; expected " +
                         kReplaySchema + ", from `vmreplay TRACE --json`)");
  }
  // Version 1 results (runs named by backend) still diff: their figures kept their names.
  if (schema->string() != kReplaySchema && schema->string() != "vmreplay.replay/1") {
    return Status::Error(name + ": schema \"" + schema->string() + "\" is not " + kReplaySchema +
                         " (expected the output of `vmreplay TRACE --json`)");
  }
  const json::Value* runs = doc.Find("runs");
  if (runs == nullptr || !runs->is_array()) return Status::Error(name + ": no \"runs\" array");
  return Status::Ok();
}

void WriteReplayDiff(const json::Value& a, const json::Value& b, const std::string& name_a,
                     const std::string& name_b, bool changed_only, std::ostream& out) {
  const json::Value* ta = a.Find("trace");
  const json::Value* tb = b.Find("trace");
  out << "A: " << name_a << " (trace " << (ta && ta->is_string() ? ta->string() : "?") << ")\n"
      << "B: " << name_b << " (trace " << (tb && tb->is_string() ? tb->string() : "?") << ")\n";
  std::map<std::string, const json::Value*> runs_b;
  for (const auto& r : b.Find("runs")->array()) runs_b[RunLabel(r)] = &r;
  std::vector<std::string> matched;
  for (const auto& ra : a.Find("runs")->array()) {
    const std::string label = RunLabel(ra);
    auto it = runs_b.find(label);
    if (it == runs_b.end()) {
      out << "\n" << label << ": only in A\n";
      continue;
    }
    matched.push_back(label);
    std::vector<std::pair<std::string, double>> fa, fb;
    Flatten(ra, "", &fa);
    Flatten(*it->second, "", &fb);
    std::map<std::string, double> mb(fb.begin(), fb.end());
    std::map<std::string, double> ma(fa.begin(), fa.end());
    // Rows: A's figures in order, then figures only B has.
    std::vector<std::string> keys;
    for (const auto& [k, v] : fa) keys.push_back(k);
    for (const auto& [k, v] : fb) {
      if (!ma.count(k)) keys.push_back(k);
    }
    size_t w = 6;
    for (const auto& k : keys) w = std::max(w, k.size());
    out << "\n"
        << label << "\n"
        << std::left << std::setw(static_cast<int>(w)) << "figure" << std::right << "  "
        << std::setw(16) << "A"
        << "  " << std::setw(16) << "B"
        << "  " << std::setw(9) << "change"
        << "\n";
    size_t shown = 0;
    for (const auto& k : keys) {
      const auto ia = ma.find(k);
      const auto ib = mb.find(k);
      const std::string va = ia == ma.end() ? "-" : Number(ia->second);
      const std::string vb = ib == mb.end() ? "-" : Number(ib->second);
      const std::string ch = ia == ma.end()   ? "only B"
                             : ib == mb.end() ? "only A"
                                              : Change(ia->second, ib->second);
      if (changed_only && ch == "=") continue;
      ++shown;
      out << std::left << std::setw(static_cast<int>(w)) << k << std::right << "  " << std::setw(16)
          << va << "  " << std::setw(16) << vb << "  " << std::setw(9) << ch << "\n";
    }
    if (shown == 0) out << "(no figure changed)\n";
  }
  for (const auto& [label, run] : runs_b) {
    if (std::find(matched.begin(), matched.end(), label) == matched.end()) {
      out << "\n" << label << ": only in B\n";
    }
  }
}

}  // namespace vmreplay::replay
