#include "recorder/linux/shared_ring_buffer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace vmreplay::recorder {
namespace {

// A ring in ordinary (64-byte aligned) memory: the ring keeps no pointers, so this is the same
// code path as shared memory.
// By default the memory starts as garbage, which Initialize must clear; with kZeroFilled it
// starts as zeros (like a new shared memory object) and Initialize leaves the slots alone.
class TestRing {
 public:
  explicit TestRing(uint64_t capacity,
                    SharedRingBuffer::Region content = SharedRingBuffer::Region::kAnyContent)
      : bytes_(SharedRingBuffer::BytesFor(capacity)) {
    const size_t rounded = (bytes_ + 63) / 64 * 64;
    memory_ = static_cast<unsigned char*>(std::aligned_alloc(64, rounded));
    std::memset(memory_, content == SharedRingBuffer::Region::kZeroFilled ? 0 : 0xA5, rounded);
    ring_ = SharedRingBuffer::Initialize(memory_, bytes_, capacity, content);
  }
  ~TestRing() { std::free(memory_); }
  SharedRingBuffer* operator->() { return ring_; }
  SharedRingBuffer& operator*() { return *ring_; }
  void* memory() { return memory_; }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_;
  unsigned char* memory_;
  SharedRingBuffer* ring_;
};

WireRecord Make(uint32_t tid, uint64_t sequence) {
  WireRecord r{};
  r.op = kWireMalloc;
  r.tid = tid;
  r.size = sequence;
  r.result = sequence * 7 + tid;
  return r;
}

TEST(SharedRingBufferTest, CapacityIsLargestPowerOfTwoThatFits) {
  EXPECT_EQ(SharedRingBuffer::CapacityFor(SharedRingBuffer::BytesFor(1024)), 1024u);
  EXPECT_EQ(SharedRingBuffer::CapacityFor(SharedRingBuffer::BytesFor(1024) - 1), 512u);
  EXPECT_EQ(SharedRingBuffer::CapacityFor(10), 0u);
}

TEST(SharedRingBufferTest, InitializeRejectsBadCapacity) {
  alignas(64) static unsigned char memory[64 * 1024];
  EXPECT_EQ(SharedRingBuffer::Initialize(memory, sizeof memory, 3), nullptr);
  EXPECT_EQ(SharedRingBuffer::Initialize(memory, sizeof memory, 1u << 20), nullptr);
  EXPECT_NE(SharedRingBuffer::Initialize(memory, sizeof memory, 4), nullptr);
}

TEST(SharedRingBufferTest, AttachSeesFormattedRingOnly) {
  TestRing ring(8);
  EXPECT_EQ(SharedRingBuffer::Attach(ring.memory(), ring.bytes()), &*ring);
  EXPECT_EQ(SharedRingBuffer::Attach(ring.memory(), 100), nullptr);
  alignas(64) static unsigned char zeros[4096] = {};
  EXPECT_EQ(SharedRingBuffer::Attach(zeros, sizeof zeros), nullptr);
}

TEST(SharedRingBufferTest, EmptyRingReadsEmpty) {
  TestRing ring(4);
  WireRecord r;
  EXPECT_EQ(ring->TryRead(&r), SharedRingBuffer::ReadResult::kEmpty);
}

TEST(SharedRingBufferTest, WrapsAroundManyTimesInOrder) {
  TestRing ring(4);
  WireRecord out;
  for (uint64_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(ring->Write(Make(1, i), 1));
    if (i % 3 == 2) {  // drain in bursts so positions wrap at different offsets
      for (uint64_t j = i - 2; j <= i; ++j) {
        ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kRecord);
        EXPECT_EQ(out.size, j);
      }
    }
  }
  while (ring->TryRead(&out) == SharedRingBuffer::ReadResult::kRecord) {
  }
  EXPECT_EQ(ring->read_position(), 1000u);
  EXPECT_EQ(ring->skipped(), 0u);
}

TEST(SharedRingBufferTest, ZeroFilledRegionNeedsNoFormattingAndWraps) {
  TestRing ring(8, SharedRingBuffer::Region::kZeroFilled);
  WireRecord out;
  EXPECT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kEmpty);
  for (uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(ring->Write(Make(2, i), 1));
    if (i % 5 == 4) {
      for (uint64_t j = i - 4; j <= i; ++j) {
        ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kRecord);
        EXPECT_EQ(out.size, j);
      }
    }
  }
  EXPECT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kEmpty);
  EXPECT_EQ(ring->read_position(), 100u);
}

TEST(SharedRingBufferTest, FullRingMakesWriterWaitAndLosesNothing) {
  TestRing ring(4);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(ring->Write(Make(1, i), 1));
  std::atomic<bool> fifth_written{false};
  std::thread writer([&] {
    ASSERT_TRUE(ring->Write(Make(1, 4), 1));
    fifth_written = true;
  });
  // The writer cannot complete while all four slots hold unread records.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(fifth_written.load());
  WireRecord out;
  ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kRecord);
  EXPECT_EQ(out.size, 0u);
  writer.join();
  EXPECT_TRUE(fifth_written.load());
  for (uint64_t i = 1; i <= 4; ++i) {
    ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kRecord);
    EXPECT_EQ(out.size, i);
  }
  EXPECT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kEmpty);
}

TEST(SharedRingBufferTest, ManyWritersOneReaderLoseNothing) {
  constexpr uint32_t kWriters = 6;
  constexpr uint64_t kPerWriter = 20000;
  TestRing ring(64);  // small: writers keep meeting a full ring
  std::vector<std::thread> writers;
  for (uint32_t w = 1; w <= kWriters; ++w) {
    writers.emplace_back([&ring, w] {
      for (uint64_t i = 0; i < kPerWriter; ++i) ASSERT_TRUE(ring->Write(Make(w, i), w));
    });
  }
  std::vector<uint64_t> next(kWriters + 1, 0);
  uint64_t total = 0;
  WireRecord out;
  while (total < kWriters * kPerWriter) {
    const auto r = ring->TryRead(&out);
    if (r != SharedRingBuffer::ReadResult::kRecord) continue;
    ASSERT_GE(out.tid, 1u);
    ASSERT_LE(out.tid, kWriters);
    // Each writer's records arrive complete and in its own order.
    ASSERT_EQ(out.size, next[out.tid]);
    ASSERT_EQ(out.result, out.size * 7 + out.tid);
    ++next[out.tid];
    ++total;
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kEmpty);
  for (uint32_t w = 1; w <= kWriters; ++w) EXPECT_EQ(next[w], kPerWriter);
}

TEST(SharedRingBufferTest, ReservedButUncommittedSlotStallsThenCanBeSkipped) {
  TestRing ring(4);
  ASSERT_TRUE(ring->Write(Make(1, 0), 11));
  const uint64_t dead = ring->Reserve();  // a writer killed right after reserving
  ASSERT_TRUE(ring->Write(Make(1, 2), 11));
  WireRecord out;
  ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kRecord);
  EXPECT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kStalled);
  EXPECT_EQ(ring->read_position(), dead);
  EXPECT_EQ(ring->StalledOwner(), 0u);  // not even claimed
  ASSERT_TRUE(ring->SkipStalled());
  ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kRecord);
  EXPECT_EQ(out.size, 2u);
  EXPECT_EQ(ring->skipped(), 1u);
  // The skipped slot is usable on the next lap.
  for (uint64_t i = 3; i < 12; ++i) {
    ASSERT_TRUE(ring->Write(Make(1, i), 11));
    ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kRecord);
    EXPECT_EQ(out.size, i);
  }
}

TEST(SharedRingBufferTest, PlaceTakenBeforeACallOrdersItsRecordFirst) {
  TestRing ring(8);
  auto never = [] { return false; };
  // A free takes its place, then (while it runs) another thread's malloc completes.
  const uint64_t free_position = ring->Reserve();
  ASSERT_TRUE(ring->Claim(free_position, 21, /*inside_call=*/true, never));
  ASSERT_TRUE(ring->Write(Make(2, 1), 22));
  WireRecord out;
  EXPECT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kStalled);
  EXPECT_EQ(ring->StalledOwner(), 21u);
  EXPECT_TRUE(ring->StalledInsideCall());
  // The free returns and is committed: it is read first, in its reserved place.
  ring->Commit(free_position, Make(1, 0), 21);
  ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kRecord);
  EXPECT_EQ(out.tid, 1u);
  ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kRecord);
  EXPECT_EQ(out.tid, 2u);
}

TEST(SharedRingBufferTest, ClaimedSlotTellsWhetherItsWriterReturnedFromTheCall) {
  TestRing ring(4);
  auto never = [] { return false; };
  const uint64_t in_call = ring->Reserve();
  ASSERT_TRUE(ring->Claim(in_call, 31, /*inside_call=*/true, never));
  WireRecord out;
  ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kStalled);
  EXPECT_TRUE(ring->StalledInsideCall());  // died inside free: nothing lost
  ASSERT_TRUE(ring->SkipStalled());
  const uint64_t copying = ring->Reserve();
  ASSERT_TRUE(ring->Claim(copying, 31, /*inside_call=*/false, never));
  ASSERT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kStalled);
  EXPECT_EQ(ring->StalledOwner(), 31u);
  EXPECT_FALSE(ring->StalledInsideCall());  // died after the call returned: a lost record
}

TEST(SharedRingBufferTest, SkipIsRefusedWhenNothingIsStalled) {
  TestRing ring(4);
  EXPECT_FALSE(ring->SkipStalled());
  ASSERT_TRUE(ring->Write(Make(1, 0), 1));
  EXPECT_FALSE(ring->SkipStalled());  // committed: read it, don't skip it
}

TEST(SharedRingBufferTest, WriterWhoseSlotWasSkippedGivesUp) {
  TestRing ring(4);
  const uint64_t late = ring->Reserve();
  ASSERT_TRUE(ring->SkipStalled());
  // The slow writer finally arrives: its slot is gone, it must not write over the next lap.
  EXPECT_FALSE(ring->ClaimAndCommit(late, Make(1, 0), 1, [] { return false; }));
  WireRecord out;
  EXPECT_EQ(ring->TryRead(&out), SharedRingBuffer::ReadResult::kEmpty);
}

TEST(SharedRingBufferTest, WriterGivesUpWhenReaderIsGone) {
  TestRing ring(2);
  ASSERT_TRUE(ring->Write(Make(1, 0), 1));
  ASSERT_TRUE(ring->Write(Make(1, 1), 1));
  int asked = 0;
  EXPECT_FALSE(ring->Write(Make(1, 2), 1, [&] { return ++asked >= 2; }));
  EXPECT_EQ(asked, 2);
}

}  // namespace
}  // namespace vmreplay::recorder
