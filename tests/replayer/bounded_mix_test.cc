// EventMix::set_max_live (tests/support), which the replay benchmarks rely on to show that replay
// memory follows the live set rather than the trace length.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <unordered_set>

#include "tests/support/event_mix.h"

namespace vmreplay::testing {
namespace {

TEST(BoundedMixReplayTest, LiveSetStaysBounded) {
  constexpr size_t kMax = 300;
  EventMix mix(Mix::kClrHost, 3);
  mix.set_max_live(kMax);
  std::unordered_set<uint64_t> reservations, blocks;
  size_t releases = 0;
  for (int i = 0; i < 200'000; ++i) {
    const Event e = mix.Next();
    if (e.op == Op::kVirtualAlloc && e.flags == 0x2000) {
      ASSERT_TRUE(reservations.insert(e.result).second);
    } else if (e.op == Op::kVirtualFree && e.flags == 0x8000) {
      ASSERT_EQ(reservations.erase(e.addr), 1u);  // Only live reservations are released.
      ++releases;
    } else if (e.op == Op::kHostAlloc) {
      ASSERT_TRUE(blocks.insert(e.result).second);
    } else if (e.op == Op::kHostFree) {
      ASSERT_EQ(blocks.erase(e.addr), 1u);
    }
    ASSERT_LE(reservations.size(), kMax);
    ASSERT_LE(blocks.size(), kMax);
  }
  // The bound is reached and the live set stays near it (ordinary releases dip below it).
  EXPECT_GE(reservations.size(), kMax - 30);
  EXPECT_GE(blocks.size(), kMax - 30);
  EXPECT_GT(releases, 5'000u);
}

TEST(BoundedMixReplayTest, UnreachedBoundLeavesTheStreamUnchanged) {
  EventMix plain(Mix::kClrHost, 5);
  EventMix bounded(Mix::kClrHost, 5);
  bounded.set_max_live(std::numeric_limits<size_t>::max());
  for (int i = 0; i < 50'000; ++i) {
    const Event a = plain.Next();
    const Event b = bounded.Next();
    ASSERT_EQ(a.op, b.op) << i;
    ASSERT_EQ(a.addr, b.addr) << i;
    ASSERT_EQ(a.size, b.size) << i;
    ASSERT_EQ(a.result, b.result) << i;
    ASSERT_EQ(a.timestamp_ns, b.timestamp_ns) << i;
  }
}

}  // namespace
}  // namespace vmreplay::testing
