#include "replayer/lift/lift_stats.h"

#include <cstdio>

namespace vmreplay::lift {
namespace {

template <typename Reason>
uint64_t Total(const std::map<std::pair<Reason, Op>, LiftStats::Listed>& calls, Reason reason) {
  uint64_t n = 0;
  for (const auto& [key, listed] : calls) {
    if (key.first == reason) n += listed.count;
  }
  return n;
}

std::string Indices(const LiftStats::Listed& l) {
  std::string s;
  for (uint64_t i : l.first_indices) s += (s.empty() ? "" : ",") + std::to_string(i);
  if (l.count > l.first_indices.size()) s += ",...";
  return s;
}

void AppendRow(std::string* out, std::string_view name, std::string_view op, uint64_t count,
               std::string_view rest) {
  char line[160];
  std::snprintf(line, sizeof line, "  %-26.*s %-9.*s %9llu  ", static_cast<int>(name.size()),
                name.data(), static_cast<int>(op.size()), op.data(),
                static_cast<unsigned long long>(count));
  *out += line;
  *out += rest;
  *out += "\n";
}

template <typename Reason, size_t N>
void AppendListed(std::string* out, const std::map<std::pair<Reason, Op>, LiftStats::Listed>& calls,
                  const std::array<PatternInfo, N>& info) {
  for (const auto& [key, listed] : calls) {
    AppendRow(out, info[static_cast<size_t>(key.first)].name, OpName(key.second), listed.count,
              "events " + Indices(listed));
  }
}

template <typename Reason, size_t N>
void ListedToMetadata(const std::map<std::pair<Reason, Op>, LiftStats::Listed>& calls,
                      const std::array<PatternInfo, N>& info, const std::string& prefix,
                      std::map<std::string, std::string>* metadata) {
  for (const auto& [key, listed] : calls) {
    (*metadata)[prefix + std::string(info[static_cast<size_t>(key.first)].name) + "." +
                std::string(OpName(key.second))] =
        std::to_string(listed.count) + " events " + Indices(listed);
  }
}

}  // namespace

uint64_t LiftStats::not_lifted(NotLifted reason) const { return Total(not_lifted_, reason); }

uint64_t LiftStats::unclassified(Unclassified reason) const { return Total(unclassified_, reason); }

uint64_t LiftStats::unclassified_total() const {
  uint64_t n = 0;
  for (const auto& [key, listed] : unclassified_) n += listed.count;
  return n;
}

std::string LiftStats::FormatTable() const {
  std::string out = "lifted (pattern -> host call)\n";
  for (size_t i = 0; i < kLiftedInfo.size(); ++i) {
    if (lifted_[i] == 0) continue;
    AppendRow(&out, kLiftedInfo[i].name, "", lifted_[i], kLiftedInfo[i].host_call);
  }
  out += "not lifted (the runtime's, no host call of their own)\n";
  AppendListed(&out, not_lifted_, kNotLiftedInfo);
  out += "unclassified\n";
  if (unclassified_.empty()) out += "  none\n";
  AppendListed(&out, unclassified_, kUnclassifiedInfo);
  out += "events in " + std::to_string(events_in_) + ", out " + std::to_string(events_out_) + "\n";
  return out;
}

void LiftStats::ToMetadata(std::map<std::string, std::string>* metadata) const {
  for (size_t i = 0; i < kLiftedInfo.size(); ++i) {
    if (lifted_[i] != 0) {
      (*metadata)["lift.lifted." + std::string(kLiftedInfo[i].name)] = std::to_string(lifted_[i]);
    }
  }
  ListedToMetadata(not_lifted_, kNotLiftedInfo, "lift.not_lifted.", metadata);
  ListedToMetadata(unclassified_, kUnclassifiedInfo, "lift.unclassified.", metadata);
  (*metadata)["lift.unclassified_total"] = std::to_string(unclassified_total());
  (*metadata)["lift.events_in"] = std::to_string(events_in_);
  (*metadata)["lift.events_out"] = std::to_string(events_out_);
}

}  // namespace vmreplay::lift
