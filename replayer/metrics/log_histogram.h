// A log-bucketed histogram of non-negative integers (latencies in nanoseconds): constant memory,
// O(1) Record, percentiles with a bounded relative error.
//
// Buckets: values below 2 * kSubBuckets are exact; above, each power-of-two range [2^k, 2^(k+1))
// is split into kSubBuckets equal linear sub-buckets, so a reported percentile is within
// 1 / kSubBuckets (6.25 %) of the true value (it is the upper bound of the value's bucket, clamped
// to the exact maximum). Count, sum (hence mean), min and max are exact.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace vmreplay::replay {

class LogHistogram {
 public:
  static constexpr int kSubBucketBits = 4;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;

  void Record(uint64_t value) {  // inline: the replay records one sample per call it makes
    ++buckets_[BucketOf(value)];
    ++count_;
    sum_ += value;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }
  // Adds every sample of `other`.
  void Merge(const LogHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // Nearest-rank percentile: the smallest recorded value v such that at least q * count samples
  // are <= v, up to the bucket resolution. q in [0, 1]; 0 when empty.
  uint64_t Percentile(double q) const;

  // Bucket of a value, and the highest value a bucket holds (exposed for tests).
  static int BucketOf(uint64_t value) {
    if (value < 2 * kSubBuckets) return static_cast<int>(value);
    const int msb = 63 - std::countl_zero(value);  // >= kSubBucketBits + 1
    const int shift = msb - kSubBucketBits;
    const uint64_t sub = (value >> shift) - kSubBuckets;  // 0 .. kSubBuckets - 1
    return static_cast<int>(2 * kSubBuckets + (msb - kSubBucketBits - 1) * kSubBuckets + sub);
  }
  static uint64_t BucketUpperBound(int bucket);

 private:
  // 2 * kSubBuckets exact buckets, then kSubBuckets per power of two from 2^(kSubBucketBits+1)
  // up to 2^63.
  static constexpr int kBuckets =
      static_cast<int>(2 * kSubBuckets + (64 - kSubBucketBits - 1) * kSubBuckets);
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace vmreplay::replay
