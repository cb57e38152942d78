#include "replayer/replay_metrics.h"

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

}  // namespace vmreplay::replay
