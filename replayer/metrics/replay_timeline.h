// Commit, reservation and address-space fragmentation over a replay, in bounded memory, plus the
// memory notifications seen (for the HTML report and the Perfetto trace).
//
// Contract: Record is called once per event with non-decreasing event indices. Samples are
// buckets of `stride` consecutive events keeping the bucket's maximum of each series (so no peak
// is lost when downsampling) and the value at the bucket's last event; when `max_samples` buckets
// are used, neighbours are merged pairwise and the stride doubles (O(1) amortized per event).
// simulator/metrics.h CommitTimeline does the same for one series; this keeps three series on the
// same buckets plus the trace timestamp of each bucket, which the charts and Perfetto need.
//
// Reservation may be reported less often than every event (a backend's reserved figure can be
// expensive to read): RecordReserved updates the value carried into later buckets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vmreplay::replay {

class ReplayTimeline {
 public:
  struct Sample {
    uint64_t first_event = 0;   // first event index of the bucket
    uint64_t timestamp_ns = 0;  // trace timestamp of that event (0 when the trace has none)
    uint64_t commit_max = 0;
    uint64_t commit_last = 0;
    uint64_t reserved_max = 0;
    uint64_t reserved_last = 0;
    double fragmentation_max = -1;  // < 0: the backend cannot tell
    double fragmentation_last = -1;
  };
  // A memory notification: recorded in the trace (the CLR received it) or produced by the
  // backend's memory-pressure model during the replay.
  struct Notification {
    uint64_t event = 0;
    uint64_t timestamp_ns = 0;
    std::string level;  // "low" | "neutral" | "high"
    bool recorded = false;
  };

  static constexpr size_t kDefaultMaxSamples = 2000;
  static constexpr size_t kMaxNotifications = 1000;  // later ones are counted, not kept

  // REQUIRES: max_samples >= 2 and even.
  explicit ReplayTimeline(size_t max_samples = kDefaultMaxSamples);

  void Record(uint64_t event_index, uint64_t timestamp_ns, uint64_t committed,
              std::optional<double> fragmentation);
  void RecordReserved(uint64_t reserved);
  // Raises the reservation series to `peak` at `event_index` (the exact peak a backend reports
  // at the end, in case the throttled RecordReserved calls missed it).
  void NotePeakReserved(uint64_t event_index, uint64_t peak);
  void AddNotification(Notification n);

  bool empty() const { return samples_.empty(); }
  const std::vector<Sample>& samples() const { return samples_; }
  uint64_t stride() const { return stride_; }
  const std::vector<Notification>& notifications() const { return notifications_; }
  uint64_t notifications_dropped() const { return notifications_dropped_; }

 private:
  void Compact();

  size_t max_samples_;
  uint64_t stride_ = 1;
  uint64_t reserved_now_ = 0;
  std::vector<Sample> samples_;
  std::vector<Notification> notifications_;
  uint64_t notifications_dropped_ = 0;
};

}  // namespace vmreplay::replay
