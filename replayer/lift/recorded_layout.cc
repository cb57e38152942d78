#include "replayer/lift/recorded_layout.h"

#include <iterator>

namespace vmreplay::lift {

void RecordedLayout::SplitAt(uint64_t at) {
  auto it = mappings_.upper_bound(at);
  if (it == mappings_.begin()) return;
  --it;
  if (it->first >= at || it->second.end <= at) return;
  Mapping tail = it->second;
  it->second.end = at;
  mappings_.emplace(at, tail);
}

void RecordedLayout::Insert(uint64_t start, uint64_t end, const Mapping& mapping) {
  Erase(start, end);
  Mapping m = mapping;
  m.end = end;
  mappings_.emplace(start, m);
}

void RecordedLayout::Erase(uint64_t start, uint64_t end) {
  if (start >= end) return;
  SplitAt(start);
  SplitAt(end);
  mappings_.erase(mappings_.lower_bound(start), mappings_.lower_bound(end));
}

const Mapping* RecordedLayout::Containing(uint64_t start, uint64_t end,
                                          uint64_t* mapping_start) const {
  auto it = mappings_.upper_bound(start);
  if (it == mappings_.begin()) return nullptr;
  --it;
  if (it->second.end < end || it->second.end <= start) return nullptr;
  if (mapping_start != nullptr) *mapping_start = it->first;
  return &it->second;
}

bool RecordedLayout::Overlaps(uint64_t start, uint64_t end) const {
  auto it = mappings_.lower_bound(start);
  if (it != mappings_.end() && it->first < end) return true;
  if (it == mappings_.begin()) return false;
  return std::prev(it)->second.end > start;
}

}  // namespace vmreplay::lift
