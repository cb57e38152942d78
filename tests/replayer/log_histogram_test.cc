#include "replayer/metrics/log_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace vmreplay::replay {
namespace {

uint64_t Exact(std::vector<uint64_t> v, double q) {
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(q * v.size()));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

TEST(LogHistogramTest, SmallValuesAreExact) {
  LogHistogram h;
  for (uint64_t v = 1; v <= 10; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 10u);
  EXPECT_EQ(h.Percentile(0.5), 5u);
  EXPECT_EQ(h.Percentile(0.9), 9u);
  EXPECT_EQ(h.Percentile(1.0), 10u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 10u);
  EXPECT_DOUBLE_EQ(h.mean(), 5.5);
}

TEST(LogHistogramTest, PercentilesWithinBucketErrorOfExact) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(8.0, 1.5);
  std::vector<uint64_t> values;
  LogHistogram h;
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h.Record(v);
  }
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const uint64_t exact = Exact(values, q);
    const uint64_t approx = h.Percentile(q);
    EXPECT_GE(approx, exact) << q;  // The upper bound of the exact value's bucket.
    EXPECT_LE(approx, exact + exact / LogHistogram::kSubBuckets + 1) << q;
  }
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
}

TEST(LogHistogramTest, BucketBoundsAreMonotonic) {
  for (uint64_t v : {0ull, 31ull, 32ull, 33ull, 1000ull, 123456789ull, ~0ull}) {
    const int b = LogHistogram::BucketOf(v);
    EXPECT_GE(LogHistogram::BucketUpperBound(b), v);
    if (b > 0) {
      EXPECT_LT(LogHistogram::BucketUpperBound(b - 1), v);
    }
  }
}

TEST(LogHistogramTest, EmptyAndMerge) {
  LogHistogram a, b;
  EXPECT_EQ(a.Percentile(0.5), 0u);
  a.Record(100);
  b.Record(300);
  a.Merge(b);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.max(), 300u);
  EXPECT_EQ(a.min(), 100u);
}

}  // namespace
}  // namespace vmreplay::replay
