// Reading ahead changes where a trace is decoded, never what the replay sees: every chunk in
// order, exactly once, the reader's errors intact, and the same metrics as without it.
#include "replayer/engine/chunk_read_ahead.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "proto/binary_trace_reader.h"
#include "replayer/engine/event_pump.h"
#include "replayer/engine/replay_engine.h"
#include "tests/proto/trace_test_util.h"
#include "tests/replayer/replay_test_util.h"

namespace vmreplay::replay {
namespace {

using vmreplay::testing::TempDir;

// Mallocs and frees of distinct sizes, so that each event says where it belongs.
std::vector<Event> HeapEvents(size_t n) {
  std::vector<Event> events;
  for (size_t i = 0; i < n; ++i) {
    Event e;
    e.thread = 7;
    e.timestamp_ns = i;
    if (i % 2 == 0) {
      e.op = Op::kMalloc;
      e.size = i + 1;
      e.result = 0x10000 + 16 * i;
    } else {
      e.op = Op::kFree;
      e.addr = 0x10000 + 16 * (i - 1);
    }
    events.push_back(e);
  }
  return events;
}

std::unique_ptr<BinaryTraceReader> Open(const std::string& path) {
  std::unique_ptr<BinaryTraceReader> reader;
  const Status s = BinaryTraceReader::Open(path, ReaderOptions(), &reader);
  EXPECT_TRUE(s.ok()) << s.message();
  return reader;
}

TEST(ChunkReadAheadTest, EveryChunkInOrderExactlyOnce) {
  TempDir dir;
  const std::string path = dir.Path("t.pb");
  const std::vector<Event> events = HeapEvents(100000);  // 25 chunks of 4096
  WriterOptions w;
  w.events_per_chunk = 4096;
  ASSERT_TRUE(vmreplay::testing::WriteTrace(path, events, w).ok());
  auto reader = Open(path);
  std::vector<Event> got;
  uint64_t last_bytes = 0;
  {
    ChunkReadAhead ahead(*reader, 2);
    while (const ChunkReadAhead::Chunk* chunk = ahead.Next()) {
      EXPECT_GT(chunk->bytes_read, last_bytes);
      last_bytes = chunk->bytes_read;
      got.insert(got.end(), chunk->events.begin(), chunk->events.end());
    }
  }
  EXPECT_TRUE(reader->status().ok()) << reader->status().message();
  ASSERT_EQ(got.size(), events.size());
  EXPECT_TRUE(got == events);
}

TEST(ChunkReadAheadTest, StoppingEarlyDoesNotHang) {
  TempDir dir;
  const std::string path = dir.Path("t.pb");
  ASSERT_TRUE(vmreplay::testing::WriteTrace(path, HeapEvents(50000)).ok());
  auto reader = Open(path);
  ChunkReadAhead ahead(*reader, 1);
  ASSERT_NE(ahead.Next(), nullptr);
  // Destroyed here with chunks still to read: the thread stops after the one it decodes.
}

TEST(ChunkReadAheadTest, ADamagedTraceEndsWithTheReadersError) {
  TempDir dir;
  const std::string path = dir.Path("t.pb");
  ASSERT_TRUE(vmreplay::testing::WriteTrace(path, HeapEvents(50000)).ok());
  std::string bytes = vmreplay::testing::ReadFile(path);
  bytes.resize(bytes.size() * 2 / 3);  // truncated mid-trace
  vmreplay::testing::WriteFile(path, bytes);
  auto reader = Open(path);
  uint64_t events = 0;
  {
    ChunkReadAhead ahead(*reader);
    while (const ChunkReadAhead::Chunk* chunk = ahead.Next()) events += chunk->events.size();
  }
  EXPECT_GT(events, 0u);
  EXPECT_LT(events, 50000u);
  EXPECT_FALSE(reader->status().ok());
  EXPECT_NE(reader->status().message().find("truncated"), std::string::npos)
      << reader->status().message();
}

TEST(ChunkReadAheadTest, DecidesFromTheFirstChunksBytesPerEvent) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one CPU: never reads ahead";
  EXPECT_FALSE(ReadAheadPays(130 * 4096, 100 * 4096));  // 1.3 bytes per event
  EXPECT_TRUE(ReadAheadPays(10 * 4096, 4096));
  EXPECT_FALSE(ReadAheadPays(0, 0));
}

ReplayMetrics ReplayWith(const std::string& path, ReadAhead read_ahead) {
  ReplayOptions o;
  testing::SetBackend(&o, "sim");
  o.read_ahead = read_ahead;
  ReplayMetrics m;
  const Status s = ReplayTrace(path, o, &m);
  EXPECT_TRUE(s.ok()) << s.message();
  return m;
}

TEST(ChunkReadAheadTest, ReplayIsTheSameWithAndWithout) {
  const std::string path = testing::SourceDir() + "/traces/synth/server-gc.pb";
  const ReplayMetrics off = ReplayWith(path, ReadAhead::kOff);
  const ReplayMetrics on = ReplayWith(path, ReadAhead::kOn);
  EXPECT_GT(off.events, 100000u);
  EXPECT_EQ(on.events, off.events);
  EXPECT_EQ(on.replayed, off.replayed);
  EXPECT_EQ(on.divergences, off.divergences);
  EXPECT_EQ(on.vm.peak_committed_bytes, off.vm.peak_committed_bytes);
  EXPECT_EQ(on.vm.peak_reserved_bytes, off.vm.peak_reserved_bytes);
  EXPECT_EQ(on.peak_live_bytes, off.peak_live_bytes);
  EXPECT_EQ(on.memory_load_answers, off.memory_load_answers);
  for (int op = 0; op < kOpCount; ++op) {
    EXPECT_EQ(on.latency[op].count(), off.latency[op].count()) << OpName(static_cast<Op>(op));
  }
}

}  // namespace
}  // namespace vmreplay::replay
