#include "replayer/managers/manager_options.h"

#include <cctype>
#include <cstdlib>

namespace vmreplay::replay {

const std::vector<ManagerInfo>& Managers() {
  static const std::vector<ManagerInfo> managers = {
      {"passthrough", "forwards every call to the platform unchanged (the reference)",
       "nothing: the figures are the workload's own"},
      {"arena",
       "one reservation of `size` up front; every reservation and mapping placed inside it "
       "(first-fit, best-fit or next-fit), commits and decommits issued on the arena",
       "address space (the whole arena is reserved from the start) and a fixed ceiling, for "
       "no reservation calls and placement the host controls"},
      {"decommit-cache",
       "keeps up to `size` bytes of what the CLR decommits or releases committed, and serves "
       "later commits (same pages) and reservations (same size class) from it",
       "commit (cached pages stay committed) for fewer decommit/commit/reserve/release calls"},
      {"large-pages",
       "reservations aligned and sized to `page` (2 MiB), commits widened to whole pages, a "
       "page decommitted only when none of it is in use (MADV_HUGEPAGE on os)",
       "commit and fragmentation (partly used pages are whole) for fewer TLB misses"},
      {"budget",
       "a SQL Server-style host: commits and host-malloc bytes counted against `limit`; past "
       "it eTaskCritical requests fail, past `limit + appdomain-reserve` also "
       "eAppDomainCritical ones, past `+ process-reserve` all; GetMemoryLoad and the Low/High "
       "notifications come from the budget",
       "refused requests (the CLR then aborts a task or unloads an AppDomain) for a hard ceiling"},
      {"plugin", "a host's own IHostMemoryManager from a shared library (include/vmreplay/)",
       "whatever the host's policy trades"},
  };
  return managers;
}

const std::vector<KnobInfo>& ManagerKnobs() {
  static const std::vector<KnobInfo> knobs = {
      {"arena", "size", KnobKind::kBytes, "64G", "", "bytes reserved up front"},
      {"arena", "placement", KnobKind::kChoice, "first-fit", "first-fit|best-fit|next-fit",
       "where a reservation goes inside the arena"},
      {"decommit-cache", "size", KnobKind::kBytes, "64M", "",
       "most bytes kept committed for reuse (oldest evicted first)"},
      {"large-pages", "page", KnobKind::kBytes, "2M", "",
       "the large page: commit unit and alignment"},
      {"budget", "limit", KnobKind::kBytes, "256M", "",
       "bytes (commit + host malloc) eTaskCritical requests may use"},
      {"budget", "appdomain-reserve", KnobKind::kBytes, "16M", "",
       "bytes past the limit that eAppDomainCritical and eProcessCritical requests may still use"},
      {"budget", "process-reserve", KnobKind::kBytes, "0", "",
       "bytes past that which only eProcessCritical requests may use (0 = unlimited)"},
  };
  return knobs;
}

Status ParseBytes(std::string_view text, uint64_t* out) {
  std::string t(text);
  for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (t.size() > 2 && t.substr(t.size() - 2) == "IB") t.resize(t.size() - 2);
  if (t.size() > 1 && t.back() == 'B') t.pop_back();
  uint64_t unit = 1;
  if (!t.empty()) {
    switch (t.back()) {
      case 'K':
        unit = 1ull << 10;
        break;
      case 'M':
        unit = 1ull << 20;
        break;
      case 'G':
        unit = 1ull << 30;
        break;
      case 'T':
        unit = 1ull << 40;
        break;
      default:
        break;
    }
    if (unit != 1) t.pop_back();
  }
  if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos || t.size() > 19) {
    return Status::Error("'" + std::string(text) +
                         "' is not a byte count (e.g. 4096, 512K, 2M, 64G)");
  }
  const uint64_t v = std::strtoull(t.c_str(), nullptr, 10);
  if (v > UINT64_MAX / unit) return Status::Error("'" + std::string(text) + "' is too large");
  *out = v * unit;
  return Status::Ok();
}

namespace {

const KnobInfo* FindKnob(std::string_view manager, std::string_view name) {
  for (const KnobInfo& k : ManagerKnobs()) {
    if (k.manager == manager && k.name == name) return &k;
  }
  return nullptr;
}

bool IsChoice(std::string_view choices, std::string_view value) {
  size_t start = 0;
  while (start <= choices.size()) {
    const size_t bar = choices.find('|', start);
    const std::string_view c =
        choices.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    if (c == value) return true;
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return false;
}

}  // namespace

Status ManagerSpec::Parse(std::string_view text, ManagerSpec* out) {
  ManagerSpec spec;
  const size_t colon = text.find(':');
  spec.name_ = std::string(text.substr(0, colon));
  bool known = false;
  for (const ManagerInfo& m : Managers()) known |= m.name == spec.name_;
  if (!known) {
    std::string names;
    for (const ManagerInfo& m : Managers())
      names += (names.empty() ? "" : ", ") + std::string(m.name);
    return Status::Error("unknown manager '" + spec.name_ + "' (" + names + ")");
  }
  std::string_view rest = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  if (spec.name_ == "plugin") {
    const size_t comma = rest.find(',');
    spec.plugin_path_ = std::string(rest.substr(0, comma));
    if (comma != std::string_view::npos) spec.plugin_options_ = std::string(rest.substr(comma + 1));
    if (spec.plugin_path_.empty()) {
      return Status::Error("--manager=plugin needs a shared library: plugin:./libhost.so");
    }
    // The label names the library, not where it lies.
    const size_t slash = spec.plugin_path_.rfind('/');
    spec.label_ =
        "plugin:" +
        (slash == std::string::npos ? spec.plugin_path_ : spec.plugin_path_.substr(slash + 1)) +
        (spec.plugin_options_.empty() ? "" : "," + spec.plugin_options_);
    *out = std::move(spec);
    return Status::Ok();
  }
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view pair = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      return Status::Error("--manager=" + std::string(text) + ": '" + std::string(pair) +
                           "' is not KNOB=VALUE");
    }
    const std::string_view knob = pair.substr(0, eq);
    const std::string_view value = pair.substr(eq + 1);
    const KnobInfo* info = FindKnob(spec.name_, knob);
    if (info == nullptr) {
      std::string names;
      for (const KnobInfo& k : ManagerKnobs()) {
        if (k.manager == spec.name_) names += (names.empty() ? "" : ", ") + std::string(k.name);
      }
      return Status::Error("manager " + spec.name_ + " has no knob '" + std::string(knob) + "'" +
                           (names.empty() ? " (it has none)" : " (" + names + ")"));
    }
    if (info->kind == KnobKind::kBytes) {
      uint64_t bytes = 0;
      if (Status s = ParseBytes(value, &bytes); !s.ok()) {
        return Status::Error(spec.name_ + ":" + std::string(knob) + ": " + s.message());
      }
    } else if (!IsChoice(info->choices, value)) {
      return Status::Error(spec.name_ + ":" + std::string(knob) + ": '" + std::string(value) +
                           "' is not one of " + std::string(info->choices));
    }
    spec.values_[std::string(knob)] = std::string(value);
  }
  // The label names the knobs given, in table order; the others take their defaults.
  spec.label_ = spec.name_;
  std::string knobs;
  for (const KnobInfo& k : ManagerKnobs()) {
    if (k.manager != spec.name_) continue;
    auto it = spec.values_.find(k.name);
    if (it != spec.values_.end()) {
      knobs += (knobs.empty() ? "" : ",") + std::string(k.name) + "=" + it->second;
    } else {
      spec.values_[std::string(k.name)] = std::string(k.default_value);
    }
  }
  if (!knobs.empty()) spec.label_ += ":" + knobs;
  *out = std::move(spec);
  return Status::Ok();
}

uint64_t ManagerSpec::Bytes(std::string_view knob) const {
  auto it = values_.find(knob);
  uint64_t v = 0;
  if (it != values_.end() && !ParseBytes(it->second, &v).ok()) v = 0;  // Parse checked it.
  return v;
}

const std::string& ManagerSpec::Choice(std::string_view knob) const {
  static const std::string kNone;
  auto it = values_.find(knob);
  return it != values_.end() ? it->second : kNone;
}

}  // namespace vmreplay::replay
