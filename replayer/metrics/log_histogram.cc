#include "replayer/metrics/log_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace vmreplay::replay {

uint64_t LogHistogram::BucketUpperBound(int bucket) {
  const uint64_t b = static_cast<uint64_t>(bucket);
  if (b < 2 * kSubBuckets) return b;
  const uint64_t rel = b - 2 * kSubBuckets;
  const int msb = static_cast<int>(rel / kSubBuckets) + kSubBucketBits + 1;
  const uint64_t sub = rel % kSubBuckets;
  const int shift = msb - kSubBucketBits;
  const uint64_t lower = (kSubBuckets + sub) << shift;
  return lower + ((uint64_t{1} << shift) - 1);
}

void LogHistogram::Merge(const LogHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LogHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(BucketUpperBound(i), min_, max_);
  }
  return max_;
}

}  // namespace vmreplay::replay
