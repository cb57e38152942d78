// recorder/windows/call_ring.h: the ring is portable C++, so its multi-writer guarantees are
// tested here on Linux (the Wine test exercises it again inside clr_driver.exe).
#include "recorder/windows/call_ring.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace vmreplay::win {
namespace {

struct Item {
  uint32_t writer = 0;
  uint64_t seq = 0;
  uint64_t payload[4] = {};  // records are larger than a word: torn copies would show
};

TEST(CallRingTest, FullAndEmpty) {
  CallRing<Item> ring(4);
  Item item;
  for (int i = 0; i < 4; ++i) {
    item.seq = i;
    EXPECT_TRUE(ring.TryPush(item));
  }
  EXPECT_FALSE(ring.TryPush(item));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(ring.TryPop(&item));
    EXPECT_EQ(item.seq, static_cast<uint64_t>(i));
  }
  EXPECT_FALSE(ring.TryPop(&item));
}

TEST(CallRingTest, ManyWritersOneReaderLoseNothingAndKeepPerWriterOrder) {
  constexpr int kWriters = 4;
  constexpr uint64_t kPerWriter = 200000;
  CallRing<Item> ring(64);  // small: writers meet a full ring all the time
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&ring, w] {
      for (uint64_t i = 0; i < kPerWriter; ++i) {
        Item item;
        item.writer = static_cast<uint32_t>(w);
        item.seq = i;
        for (uint64_t& p : item.payload) p = i * 31 + static_cast<uint64_t>(w);
        while (!ring.TryPush(item)) std::this_thread::yield();
      }
    });
  }
  std::vector<uint64_t> next(kWriters, 0);
  uint64_t received = 0;
  Item item;
  while (received < kWriters * kPerWriter) {
    if (!ring.TryPop(&item)) {
      std::this_thread::yield();
      continue;
    }
    ++received;
    ASSERT_LT(item.writer, static_cast<uint32_t>(kWriters));
    ASSERT_EQ(item.seq, next[item.writer]) << "writer " << item.writer;
    for (uint64_t p : item.payload) ASSERT_EQ(p, item.seq * 31 + item.writer);
    ++next[item.writer];
  }
  for (std::thread& t : writers) t.join();
  EXPECT_FALSE(ring.TryPop(&item));
}

}  // namespace
}  // namespace vmreplay::win
