#include "simulator/metrics.h"

#include <algorithm>
#include <cassert>

namespace vmreplay::sim {

CommitTimeline::CommitTimeline(size_t max_samples, uint64_t initial_stride)
    : max_samples_(max_samples), stride_(initial_stride == 0 ? 1 : initial_stride) {
  assert(max_samples >= 2 && max_samples % 2 == 0);
  samples_.reserve(max_samples);
}

void CommitTimeline::Record(uint64_t event_index, uint64_t value) {
  const uint64_t bucket_start = event_index - event_index % stride_;
  if (!samples_.empty() && samples_.back().first_event == bucket_start) {
    Sample& s = samples_.back();
    s.max_value = std::max(s.max_value, value);
    s.last_value = value;
    return;
  }
  if (samples_.size() == max_samples_) {
    Compact();
    Record(event_index, value);
    return;
  }
  samples_.push_back(Sample{bucket_start, value, value});
}

void CommitTimeline::Compact() {
  stride_ *= 2;
  std::vector<Sample> merged;
  merged.reserve(max_samples_);
  for (const Sample& s : samples_) {
    const uint64_t bucket_start = s.first_event - s.first_event % stride_;
    if (!merged.empty() && merged.back().first_event == bucket_start) {
      merged.back().max_value = std::max(merged.back().max_value, s.max_value);
      merged.back().last_value = s.last_value;
    } else {
      merged.push_back(Sample{bucket_start, s.max_value, s.last_value});
    }
  }
  samples_.swap(merged);
}

}  // namespace vmreplay::sim
