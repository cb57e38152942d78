#include "proto/string_table.h"

#include <algorithm>

namespace vmreplay {

Status StringTable::Add(uint32_t first_id, std::vector<std::string>* strings) {
  if (strings->empty()) return Status::Ok();
  uint64_t added = 0;
  for (const std::string& s : *strings) added += s.size() + kOverheadPerString;
  if (bytes_ + added > kMaxBytes) {
    return Status::Error("the trace's strings exceed " + std::to_string(kMaxBytes >> 20) + " MiB");
  }
  bytes_ += added;
  if (runs_.empty() || first_id != uint64_t{last_id()} + 1) {
    runs_.push_back(Run{first_id, {}});
  }
  std::vector<std::string>& run = runs_.back().strings;
  for (std::string& s : *strings) run.push_back(std::move(s));
  return Status::Ok();
}

std::string_view StringTable::Find(uint32_t id) const {
  // The run with the largest first_id <= id. Undamaged traces have a single run.
  auto it = std::upper_bound(runs_.begin(), runs_.end(), id,
                             [](uint32_t v, const Run& r) { return v < r.first_id; });
  if (id == 0 || it == runs_.begin()) return {};
  const Run& run = *(it - 1);
  if (id > run.last_id()) return {};
  return run.strings[id - run.first_id];
}

}  // namespace vmreplay
