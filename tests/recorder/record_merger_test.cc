// The rings and their merge: what the collector reads is every published record exactly once,
// in key order, whatever the writers are doing (publishing, in the middle of a record, dead,
// exited, sharing a ring, scribbling garbage).
#include "recorder/linux/record_merger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "recorder/linux/ring_directory.h"
#include "recorder/linux/thread_ring.h"

namespace vmreplay::recorder {
namespace {

constexpr uint32_t kPid = 1000;

// A session segment in ordinary memory (the rings keep no pointers, so this is the code path
// of shared memory), zero-filled like a new shared memory object.
class Segment {
 public:
  // With `owners` > 0, threads 1 .. owners have claimed rings 0 .. owners - 1.
  Segment(uint32_t rings, uint32_t shared, uint64_t ring_words, uint32_t owners = 0)
      : bytes_(RingDirectory::SegmentBytesFor(rings, shared, ring_words)),
        memory_(static_cast<unsigned char*>(std::aligned_alloc(4096, Rounded(bytes_)))) {
    std::memset(memory_.get(), 0, Rounded(bytes_));
    session_ = new (memory_.get()) SessionHeader();
    EXPECT_TRUE(RingDirectory::Format(session_, bytes_, rings, shared, ring_words));
    EXPECT_TRUE(directory_.Attach(session_, bytes_));
    for (uint32_t t = 1; t <= owners; ++t) {
      EXPECT_EQ(directory_.Claim(kPid, t), static_cast<int>(t - 1));
    }
  }
  RingDirectory& directory() { return directory_; }
  SessionHeader* session() { return session_; }

 private:
  static size_t Rounded(size_t n) { return (n + 4095) / 4096 * 4096; }
  struct Free {
    void operator()(unsigned char* p) const { std::free(p); }
  };
  size_t bytes_;
  std::unique_ptr<unsigned char, Free> memory_;
  SessionHeader* session_;
  RingDirectory directory_;
};

// Writes records the way the preload library does (recording_session.h), from one thread, into
// one ring, with keys from the clock the merger reads (CLOCK_MONOTONIC here).
class Writer {
 public:
  Writer(RingDirectory& directory, uint32_t ring, uint32_t tid, uint32_t instance = 1)
      : ring_(directory.Ring(ring)), tid_(tid), instance_(instance) {
    Control(kWireWriter, {uint64_t{instance} << 32 | tid, kPid});
  }
  static uint64_t Clock() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  }
  // A malloc returning `result`, keyed now.
  void Malloc(uint64_t size, uint64_t result, uint64_t latency = 5) {
    Write(kWireMalloc, latency, {size, result});
  }
  void Control(uint8_t op, std::initializer_list<uint64_t> payload) { Write(op, 0, payload); }
  // The steps of one record, for tests that stop in between.
  uint64_t Begin(bool inside_call = false) {
    head_ = ring_.header->head.load(std::memory_order_relaxed);
    uint64_t limit;
    EXPECT_TRUE(WaitForSpace(ring_, head_, kMaxRecordWords, &limit, [] { return false; }));
    mark_ = pending_mark::Make(kPid, tid_, inside_call, head_);
    MarkPending(ring_, mark_, /*fence_per_record=*/true);
    return Clock();
  }
  void End(uint8_t op, uint64_t key, uint64_t latency, std::initializer_list<uint64_t> payload) {
    const std::vector<uint64_t> words(payload);
    const unsigned n = PutRecord(ring_, head_, key, op, 0, latency, words.data(),
                                 static_cast<unsigned>(words.size()));
    Publish(ring_, head_, n, key);
  }
  // A whole record; returns its key.
  uint64_t Write(uint8_t op, uint64_t latency, std::initializer_list<uint64_t> payload) {
    const uint64_t key = Begin();
    End(op, key, latency, payload);
    return key;
  }
  const RingView& ring() const { return ring_; }
  uint64_t mark() const { return mark_; }

 private:
  RingView ring_;
  uint32_t tid_;
  uint32_t instance_;
  uint64_t head_ = 0;
  uint64_t mark_ = 0;
};

struct Collected {
  std::vector<CallRecord> records;  // call records only
  std::vector<CallRecord> control;  // everything else passed on
};

uint64_t RoundInto(RecordMerger& merger, Collected* out) {
  return merger
      .Round([&](const CallRecord& r) {
        (IsCallRecord(r) ? out->records : out->control).push_back(r);
      })
      .emitted;
}

RecordMerger::Options Options() { return {.use_tsc = false, .membarrier = false}; }

TEST(RingDirectoryTest, ClaimsEachOwnedRingOnceThenNone) {
  Segment segment(3, 1, 64);
  RingDirectory& d = segment.directory();
  EXPECT_EQ(d.Claim(kPid, 1), 0);
  EXPECT_EQ(d.Claim(kPid, 2), 1);
  EXPECT_EQ(d.Claim(kPid, 3), 2);
  EXPECT_EQ(d.Claim(kPid, 4), -1) << "every owned ring taken: the thread uses a shared ring";
  EXPECT_EQ(d.RingsUsed(), 3u);
  EXPECT_TRUE(d.IsShared(d.SharedIndexFor(4)));
  EXPECT_EQ(d.Ring(3).header->owner.load(), owner_word::kShared);
}

TEST(RingDirectoryTest, RingsShrinkToFitTheSharedMemoryThatIsFree) {
  const uint64_t words = uint64_t{1} << 18;  // 2 MiB rings
  // Plenty of room: as asked.
  EXPECT_EQ(RingDirectory::RingWordsThatFit(uint64_t{24} << 30, 128, 4, words), words);
  // Docker's 64 MiB: halved until the whole segment takes at most half of it.
  const uint64_t fitted = RingDirectory::RingWordsThatFit(uint64_t{64} << 20, 128, 4, words);
  EXPECT_LT(fitted, words);
  EXPECT_LE(RingDirectory::SegmentBytesFor(128, 4, fitted), uint64_t{32} << 20);
  EXPECT_GT(RingDirectory::SegmentBytesFor(128, 4, fitted * 2), uint64_t{32} << 20);
  // Never below the floor, however little is free.
  EXPECT_EQ(RingDirectory::RingWordsThatFit(1 << 20, 128, 4, words),
            RingDirectory::kMinFittedRingWords);
}

TEST(RingDirectoryTest, AttachRejectsLayoutsThatDoNotFit) {
  Segment segment(2, 1, 64);
  RingDirectory other;
  const uint64_t bytes = RingDirectory::SegmentBytesFor(2, 1, 64);
  EXPECT_FALSE(other.Attach(segment.session(), bytes - 1));
  segment.session()->ring_words = 100;  // not a power of two
  EXPECT_FALSE(other.Attach(segment.session(), bytes));
}

TEST(RecordMergerTest, DecodesEveryRecordKind) {
  Segment segment(1, 1, 1024);
  RingDirectory& d = segment.directory();
  ASSERT_EQ(d.Claim(kPid, 7), 0);
  Writer w(d, 0, 7, 3);
  std::vector<uint64_t> keys;
  keys.push_back(
      w.Write(kWireMmap, 11, {0x1000, 8192, 3 | uint64_t{0x22} << 32, ~uint64_t{0}, 4096, 0x7000}));
  keys.push_back(w.Write(kWireMremap, 12, {0x7000, 4096, 8192, 1, 0, 0x9000}));
  keys.push_back(w.Write(kWireMalloc, 13, {100, 0x5000}));
  keys.push_back(w.Write(kWireCalloc, 14, {3, 10, 0x5100}));
  keys.push_back(w.Write(kWirePosixMemalign, 15, {64, 200, 0x5200}));
  keys.push_back(w.Write(kWireFree, 16, {0x5000}));
  keys.push_back(w.Write(kWireMalloc, uint64_t{1} << 40, {1, 0x5300}));  // latency over 32 bits
  RecordMerger merger(d, Options());
  Collected got;
  RoundInto(merger, &got);
  ASSERT_EQ(got.records.size(), 7u);
  const CallRecord& mmap = got.records[0];
  EXPECT_EQ(mmap.op, kWireMmap);
  EXPECT_EQ(mmap.addr, 0x1000u);
  EXPECT_EQ(mmap.size, 8192u);
  EXPECT_EQ(mmap.protect, 3u);
  EXPECT_EQ(mmap.flags, 0x22u);
  EXPECT_EQ(mmap.fd, -1);
  EXPECT_EQ(mmap.arg, 4096u);
  EXPECT_EQ(mmap.result, 0x7000u);
  EXPECT_EQ(mmap.latency, 11u);
  EXPECT_EQ(mmap.pid, kPid);
  EXPECT_EQ(mmap.tid, 7u);
  EXPECT_EQ(mmap.instance, 3u);
  EXPECT_EQ(got.records[1].arg, 8192u);
  EXPECT_EQ(got.records[1].new_addr, 0u);
  EXPECT_EQ(got.records[1].result, 0x9000u);
  EXPECT_EQ(got.records[2].size, 100u);
  EXPECT_EQ(got.records[3].arg, 3u);
  EXPECT_EQ(got.records[3].size, 10u);
  EXPECT_EQ(got.records[4].arg, 64u);
  EXPECT_EQ(got.records[5].addr, 0x5000u);
  EXPECT_EQ(got.records[6].latency, uint64_t{1} << 40);
  // Calls keyed after they return started `latency` before their key; releases at their key.
  EXPECT_EQ(got.records[2].timestamp, keys[2] - 13);
  EXPECT_EQ(got.records[5].timestamp, keys[5]);
  ASSERT_EQ(got.control.size(), 1u);  // the writer record, passed on once
  EXPECT_EQ(got.control[0].op, kWireWriter);
  EXPECT_TRUE(merger.corruption().empty());
}

TEST(RecordMergerTest, TwoWritersComeOutInKeyOrderExactlyOnce) {
  Segment segment(2, 1, 256, 2);  // small rings: writers wait for space many times
  RingDirectory& d = segment.directory();
  constexpr uint64_t kPerWriter = 20000;
  std::atomic<int> done{0};
  auto write = [&](uint32_t ring, uint32_t tid) {
    Writer w(d, ring, tid);
    for (uint64_t i = 0; i < kPerWriter; ++i) w.Malloc(i, uint64_t{tid} << 32 | i);
    done.fetch_add(1);
  };
  std::thread a(write, 0, 1), b(write, 1, 2);
  RecordMerger merger(d, Options());
  Collected got;
  while (done.load() < 2 || !merger.drained()) RoundInto(merger, &got);
  a.join();
  b.join();
  ASSERT_EQ(got.records.size(), 2 * kPerWriter);
  uint64_t next[3] = {0, 0, 0};
  for (size_t i = 0; i < got.records.size(); ++i) {
    const CallRecord& r = got.records[i];
    ASSERT_TRUE(r.tid == 1 || r.tid == 2);
    EXPECT_EQ(r.size, next[r.tid]++) << "each writer's records in its own order, none twice";
    if (i > 0) {
      EXPECT_LE(got.records[i - 1].timestamp + got.records[i - 1].latency, r.timestamp + r.latency)
          << "merged in key order at " << i;
    }
  }
  EXPECT_EQ(merger.late_records(), 0u);
}

// A record in progress holds the watermark at its ring's last key: records other rings publish
// meanwhile wait, and come out after it once it is published, if their keys are later.
TEST(RecordMergerTest, RecordInProgressHoldsLaterRecordsBack) {
  Segment segment(2, 1, 256, 2);
  RingDirectory& d = segment.directory();
  Writer slow(d, 0, 1);
  Writer fast(d, 1, 2);
  RecordMerger merger(d, Options());
  Collected got;
  RoundInto(merger, &got);            // the writer records
  const uint64_t key = slow.Begin();  // keyed, not yet published
  fast.Malloc(2, 0x2000);
  RoundInto(merger, &got);
  EXPECT_TRUE(got.records.empty()) << "a later record must wait for the one in progress";
  slow.End(kWireMalloc, key, 1, {1, 0x1000});
  RoundInto(merger, &got);
  ASSERT_EQ(got.records.size(), 2u);
  EXPECT_EQ(got.records[0].size, 1u);
  EXPECT_EQ(got.records[1].size, 2u);
}

// An idle ring (no mark) holds nothing back, however old its last record.
TEST(RecordMergerTest, IdleRingDoesNotHoldTheWatermark) {
  Segment segment(2, 1, 256, 2);
  RingDirectory& d = segment.directory();
  Writer idle(d, 0, 1);
  Writer busy(d, 1, 2);
  idle.Malloc(1, 0x1000);
  RecordMerger merger(d, Options());
  Collected got;
  RoundInto(merger, &got);
  busy.Malloc(2, 0x2000);
  RoundInto(merger, &got);
  ASSERT_EQ(got.records.size(), 2u);
  EXPECT_EQ(got.records[1].size, 2u);
}

TEST(RecordMergerTest, DeadWriterIsClearedAndItsLostRecordCounted) {
  Segment segment(3, 1, 256, 3);
  RingDirectory& d = segment.directory();
  Writer returned(d, 0, 1);   // dies after its call returned: a lost record
  Writer inside(d, 1, 2);     // dies inside a free: the call never returned, nothing lost
  Writer published(d, 2, 3);  // dies after publishing, before clearing its mark
  RecordMerger merger(d, Options());
  Collected got;
  RoundInto(merger, &got);
  returned.Begin();
  inside.Begin(/*inside_call=*/true);
  const uint64_t key = published.Begin();
  const uint64_t mark = published.mark();
  published.End(kWireMalloc, key, 1, {3, 0x3000});
  published.ring().header->pending.store(mark);  // as if killed right before the clear
  RoundInto(merger, &got);
  int lost = 0;
  EXPECT_EQ(merger.ClearDeadWriters(
                std::chrono::milliseconds(0), [](uint32_t, uint32_t tid) { return tid != 0; },
                [&](uint32_t pid) {
                  EXPECT_EQ(pid, kPid);
                  ++lost;
                }),
            3);
  EXPECT_EQ(lost, 1);
  RoundInto(merger, &got);
  ASSERT_EQ(got.records.size(), 1u);
  EXPECT_EQ(got.records[0].size, 3u);
  RoundInto(merger, &got);
  EXPECT_TRUE(merger.drained());
}

TEST(RecordMergerTest, LiveWriterIsNotCleared) {
  Segment segment(1, 1, 256, 1);
  RingDirectory& d = segment.directory();
  Writer w(d, 0, 1);
  RecordMerger merger(d, Options());
  w.Begin();
  EXPECT_EQ(merger.ClearDeadWriters(
                std::chrono::milliseconds(0), [](uint32_t, uint32_t) { return false; },
                [](uint32_t) { ADD_FAILURE(); }),
            0);
  EXPECT_NE(w.ring().header->pending.load(), 0u);
}

TEST(RecordMergerTest, UnparsableRecordBreaksOnlyItsRingAndFreesItsWriter) {
  Segment segment(2, 1, 64, 2);
  RingDirectory& d = segment.directory();
  Writer bad(d, 0, 1);
  Writer good(d, 1, 2);
  // The recorded program scribbles over its ring: an unknown op with absurd length.
  const RingView ring = d.Ring(0);
  const uint64_t head = ring.header->head.load();
  ring.Put(head, Writer::Clock());
  ring.Put(head + 1, RecordHeaderWord(99, 200, 0, 0));
  ring.header->head.store(head + 2);
  good.Malloc(1, 0x1000);
  RecordMerger merger(d, Options());
  Collected got;
  RoundInto(merger, &got);
  RoundInto(merger, &got);
  EXPECT_NE(merger.corruption().find("ring 0"), std::string::npos) << merger.corruption();
  ASSERT_EQ(got.records.size(), 1u);
  EXPECT_EQ(got.records[0].tid, 2u);
  // Its writer is not left waiting for space forever: what it writes is read (and dropped).
  for (int i = 0; i < 100; ++i) {
    bad.Malloc(i, 0x2000);
    RoundInto(merger, &got);
  }
  EXPECT_GT(merger.unreadable_words(), 0u);
}

TEST(RecordMergerTest, RetiredRingIsFreedOnceReadAndReclaimed) {
  Segment segment(1, 1, 256, 1);
  RingDirectory& d = segment.directory();
  Writer w(d, 0, 1);
  w.Malloc(1, 0x1000);
  d.Ring(0).header->owner.fetch_or(owner_word::kRetired);  // the thread exited
  EXPECT_EQ(d.Claim(kPid, 2), -1);
  RecordMerger merger(d, Options());
  merger.RecycleRings([](uint32_t, uint32_t) { return false; });
  EXPECT_EQ(d.Claim(kPid, 2), -1) << "not before its records are read";
  Collected got;
  RoundInto(merger, &got);
  merger.RecycleRings([](uint32_t, uint32_t) { return false; });
  ASSERT_EQ(d.Claim(kPid, 2), 0);
  Writer next(d, 0, 2);
  next.Malloc(2, 0x2000);
  RoundInto(merger, &got);
  ASSERT_EQ(got.records.size(), 2u);
  EXPECT_EQ(got.records[1].tid, 2u) << "the new owner's writer record names it";
}

TEST(RecordMergerTest, DeadOwnersRingIsFreedOnlyWhenIdle) {
  Segment segment(1, 1, 256, 1);
  RingDirectory& d = segment.directory();
  Writer w(d, 0, 1);
  RecordMerger merger(d, Options());
  Collected got;
  RoundInto(merger, &got);
  merger.RecycleRings([](uint32_t, uint32_t) { return true; });  // first look: not yet idle
  merger.RecycleRings([](uint32_t, uint32_t) { return true; });
  EXPECT_EQ(d.Claim(kPid, 2), 0);
}

// Threads beyond the owned rings share a ring under its lock; each record still names its
// writer, and nothing is lost or torn.
TEST(RecordMergerTest, SharedRingWritersAreNamedAndLoseNothing) {
  Segment segment(0, 1, 256);
  RingDirectory& d = segment.directory();
  constexpr int kThreads = 3;
  constexpr uint64_t kEach = 3000;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const uint32_t tid = 10 + static_cast<uint32_t>(t);
      const RingView ring = d.Ring(d.SharedIndexFor(tid));
      for (uint64_t i = 0; i < kEach; ++i) {
        // The preload's shared-ring path: lock, name the writer if it changed, write.
        std::atomic<uint64_t>& pending = ring.header->pending;
        uint64_t expected = 0;
        uint64_t head;
        for (;;) {
          head = ring.header->head.load(std::memory_order_acquire);
          expected = 0;
          if (pending.compare_exchange_weak(expected, pending_mark::Make(kPid, tid, false, head))) {
            break;
          }
          std::this_thread::yield();
        }
        head = ring.header->head.load(std::memory_order_acquire);
        uint64_t limit;
        ASSERT_TRUE(WaitForSpace(ring, head, 4 + kMaxRecordWords, &limit, [] { return false; }));
        const uint64_t key = Writer::Clock();
        unsigned n = 0;
        const uint64_t identity = uint64_t{1} << 32 | tid;
        if (ring.header->last_writer != identity) {
          ring.header->last_writer = identity;
          const uint64_t writer[2] = {identity, kPid};
          n += PutRecord(ring, head, key, kWireWriter, 0, 0, writer, 2);
        }
        const uint64_t payload[2] = {i, 0x1000 + i};
        n += PutRecord(ring, head + n, key, kWireMalloc, 0, 1, payload, 2);
        Publish(ring, head, n, key);
      }
      done.fetch_add(1);
    });
  }
  RecordMerger merger(d, Options());
  Collected got;
  while (done.load() < kThreads || !merger.drained()) RoundInto(merger, &got);
  for (auto& t : threads) t.join();
  ASSERT_EQ(got.records.size(), kThreads * kEach);
  uint64_t next[kThreads] = {};
  for (const CallRecord& r : got.records) {
    ASSERT_GE(r.tid, 10u);
    ASSERT_LT(r.tid, 10u + kThreads);
    EXPECT_EQ(r.size, next[r.tid - 10]++);
    EXPECT_EQ(r.result, 0x1000 + r.size);
  }
}

}  // namespace
}  // namespace vmreplay::recorder
