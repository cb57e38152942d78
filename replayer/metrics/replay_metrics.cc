#include "replayer/metrics/replay_metrics.h"

#include <algorithm>

namespace vmreplay::replay {

// A heap can never hold less than what is live in it: a footprint below live bytes means the
// backend's footprint figure is not a measurement of this heap, so no figure is given.
std::optional<double> ReplayMetrics::heap_fragmentation_at_peak() const {
  if (!footprint_at_live_peak || *footprint_at_live_peak == 0 ||
      *footprint_at_live_peak < peak_live_bytes) {
    return std::nullopt;
  }
  const double f = static_cast<double>(*footprint_at_live_peak);
  return (f - static_cast<double>(peak_live_bytes)) / f;
}

std::optional<double> ReplayMetrics::johnstone_wilson_4() const {
  if (!peak_footprint || peak_live_bytes == 0 || *peak_footprint < peak_live_bytes) {
    return std::nullopt;
  }
  return static_cast<double>(*peak_footprint) / static_cast<double>(peak_live_bytes) - 1.0;
}

void ReplayMetrics::MergeLane(const ReplayMetrics& lane) {
  events += lane.events;
  replayed += lane.replayed;
  skipped_not_memory += lane.skipped_not_memory;
  skipped_dependent += lane.skipped_dependent;
  skipped_null_free += lane.skipped_null_free;
  skipped_heap_internal += lane.skipped_heap_internal;
  untranslatable += lane.untranslatable;
  divergences += lane.divergences;
  first_divergences.insert(first_divergences.end(), lane.first_divergences.begin(),
                           lane.first_divergences.end());
  stopped_early = stopped_early || lane.stopped_early;
  if (lane.max_fragmentation &&
      (!max_fragmentation || *lane.max_fragmentation > *max_fragmentation)) {
    max_fragmentation = lane.max_fragmentation;
  }
  for (int op = 0; op < kOpCount; ++op) latency[op].Merge(lane.latency[op]);
  memory_load_answers += lane.memory_load_answers;
  max_memory_load = std::max(max_memory_load, lane.max_memory_load);
  notifications_low += lane.notifications_low;
  notifications_neutral += lane.notifications_neutral;
  notifications_high += lane.notifications_high;
  recorded_notifications += lane.recorded_notifications;
}

}  // namespace vmreplay::replay
