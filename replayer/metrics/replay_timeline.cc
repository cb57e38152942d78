#include "replayer/metrics/replay_timeline.h"

#include <algorithm>

namespace vmreplay::replay {

ReplayTimeline::ReplayTimeline(size_t max_samples) : max_samples_(max_samples) {}

void ReplayTimeline::Record(uint64_t event_index, uint64_t timestamp_ns, uint64_t committed,
                            std::optional<double> fragmentation) {
  const double f = fragmentation.value_or(-1);
  if (samples_.empty() || event_index >= samples_.back().first_event + stride_) {
    if (samples_.size() == max_samples_) Compact();
  }
  if (samples_.empty() || event_index >= samples_.back().first_event + stride_) {
    Sample s;
    // Buckets start on multiples of the stride so merged neighbours stay aligned.
    s.first_event = event_index - event_index % stride_;
    s.timestamp_ns = timestamp_ns;
    s.commit_max = s.commit_last = committed;
    s.reserved_max = s.reserved_last = reserved_now_;
    s.fragmentation_max = s.fragmentation_last = f;
    samples_.push_back(s);
    return;
  }
  Sample& s = samples_.back();
  s.commit_max = std::max(s.commit_max, committed);
  s.commit_last = committed;
  s.reserved_max = std::max(s.reserved_max, reserved_now_);
  s.reserved_last = reserved_now_;
  s.fragmentation_max = std::max(s.fragmentation_max, f);
  s.fragmentation_last = f;
}

void ReplayTimeline::RecordReserved(uint64_t reserved) {
  reserved_now_ = reserved;
  if (!samples_.empty()) {
    Sample& s = samples_.back();
    s.reserved_max = std::max(s.reserved_max, reserved);
    s.reserved_last = reserved;
  }
}

void ReplayTimeline::NotePeakReserved(uint64_t event_index, uint64_t peak) {
  if (samples_.empty()) return;
  // The bucket holding event_index: the last one starting at or before it.
  auto it = std::upper_bound(samples_.begin(), samples_.end(), event_index,
                             [](uint64_t e, const Sample& s) { return e < s.first_event; });
  if (it == samples_.begin()) return;
  --it;
  it->reserved_max = std::max(it->reserved_max, peak);
}

void ReplayTimeline::AddNotification(Notification n) {
  if (notifications_.size() >= kMaxNotifications) {
    ++notifications_dropped_;
    return;
  }
  notifications_.push_back(std::move(n));
}

void ReplayTimeline::Compact() {
  std::vector<Sample> merged;
  merged.reserve(max_samples_ / 2 + 1);
  stride_ *= 2;
  for (const Sample& s : samples_) {
    const uint64_t start = s.first_event - s.first_event % stride_;
    if (!merged.empty() && merged.back().first_event == start) {
      Sample& m = merged.back();
      m.commit_max = std::max(m.commit_max, s.commit_max);
      m.commit_last = s.commit_last;
      m.reserved_max = std::max(m.reserved_max, s.reserved_max);
      m.reserved_last = s.reserved_last;
      m.fragmentation_max = std::max(m.fragmentation_max, s.fragmentation_max);
      m.fragmentation_last = s.fragmentation_last;
    } else {
      Sample m = s;
      m.first_event = start;
      merged.push_back(m);
    }
  }
  samples_ = std::move(merged);
}

}  // namespace vmreplay::replay
