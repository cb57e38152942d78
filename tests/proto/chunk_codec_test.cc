#include "proto/chunk_codec.h"

#include <gtest/gtest.h>

#include "tests/support/event_mix.h"

namespace vmreplay {
namespace {

using testing::MakeEvents;
using testing::Mix;

TEST(ChunkCodecTest, RoundTripsEveryOperationAndExtremeValues) {
  std::vector<Event> events = MakeEvents(Mix::kEveryOp, 7, 5000);
  std::vector<std::string> strings = {"gc.cpp"};
  for (bool compress : {true, false}) {
    ChunkEncoder encoder;
    std::string bytes;
    encoder.Encode(events, 100, 1, strings, compress, 3, &bytes);
    ChunkDecoder decoder;
    DecodedChunk chunk;
    Status s = decoder.Decode(bytes.data(), bytes.size(), 0, false, &chunk);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(chunk.first_event_index, 100u);
    EXPECT_EQ(chunk.first_string_id, 1u);
    ASSERT_EQ(chunk.strings, strings);
    ASSERT_EQ(chunk.events.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      ASSERT_EQ(chunk.events[i], events[i]) << "event " << i << " op " << OpName(events[i].op);
    }
  }
}

// Absent columns are {nullptr, nullptr} in the in-place decoder; counting their values once
// did nullptr + 8, undefined behaviour that clang's UBSan reports (fuzz/ builds and runs this
// test with it; GCC's UBSan does not check null + offset).
TEST(ChunkCodecTest, DecodesChunksWithAbsentColumns) {
  Event free_call;
  free_call.op = Op::kFree;
  free_call.addr = 0x1000;
  Event load;
  load.op = Op::kGetMemoryLoad;
  load.load = 42;
  for (const std::vector<Event>& events :
       {std::vector<Event>{free_call}, std::vector<Event>(100, load), std::vector<Event>{}}) {
    ChunkEncoder encoder;
    std::string bytes;
    encoder.Encode(events, 0, 0, {}, /*compress=*/false, 0, &bytes);
    ChunkDecoder decoder;
    DecodedChunk chunk;
    Status s = decoder.Decode(bytes.data(), bytes.size(), 0, false, &chunk);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(chunk.events, events);
  }
}

// Format 1.3's origin column (CallOrigin): written only when some call in the chunk is not a
// hooked one, so chunks of hooked calls are encoded byte for byte as before 1.3 and older
// traces, which have no such column, read with origin 0.
TEST(ChunkCodecTest, OriginColumnIsLeftOutWhenEveryCallIsHookedAndReadsAsZero) {
  Event mmap;
  mmap.op = Op::kMmap;
  mmap.size = 4096;
  mmap.result = 0x7f0000000000;
  Event madvise;
  madvise.op = Op::kMadvise;
  madvise.addr = 0x7f0000000000;
  madvise.size = 4096;
  std::vector<Event> hooked = {mmap, madvise};
  std::vector<Event> mixed = hooked;
  mixed[0].origin = static_cast<uint32_t>(CallOrigin::kLoader);
  mixed[1].origin = static_cast<uint32_t>(CallOrigin::kHeapInternal);
  // The origin column's tag: field 32, length-delimited.
  const std::string tag = {static_cast<char>(0x82), static_cast<char>(0x02)};
  for (const auto& [events, has_column] : {std::pair{hooked, false}, std::pair{mixed, true}}) {
    ChunkEncoder encoder;
    std::string bytes;
    encoder.Encode(events, 0, 0, {}, /*compress=*/false, 0, &bytes);
    EXPECT_EQ(bytes.find(tag) != std::string::npos, has_column);
    ChunkDecoder decoder;
    DecodedChunk chunk;
    Status s = decoder.Decode(bytes.data(), bytes.size(), 0, false, &chunk);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(chunk.events, events);
  }
}

// After damage string ids may jump, but never past 32 bits.
TEST(ChunkCodecTest, RefusesStringIdsPast32Bits) {
  Event e;
  e.op = Op::kHostDebugAlloc;
  e.file = UINT32_MAX;
  const std::vector<std::string> strings = {"a", "b"};
  ChunkEncoder encoder;
  std::string bytes;
  encoder.Encode({&e, 1}, 0, UINT32_MAX, strings, false, 0, &bytes);
  ChunkDecoder decoder;
  DecodedChunk chunk;
  Status s = decoder.Decode(bytes.data(), bytes.size(), UINT32_MAX - 5, true, &chunk);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("do not fit in 32 bits"), std::string::npos) << s.message();
}

TEST(ChunkCodecTest, EveryOperationHasAName) {
  for (int op = 1; op < kOpCount; ++op) {
    EXPECT_FALSE(kOpInfo[op].name.empty()) << op;
    EXPECT_NE(kOpInfo[op].fields, 0u) << kOpInfo[op].name;
  }
}

TEST(ChunkCodecTest, RejectsColumnsThatDoNotMatchTheOperations) {
  proto::ChunkColumns columns;
  columns.add_op(static_cast<uint32_t>(Op::kMalloc));
  columns.add_thread(0);
  columns.add_timestamp_ns(0);
  columns.add_latency_ns(0);
  columns.add_size(16);  // malloc also needs result and error
  proto::Chunk chunk;
  chunk.set_event_count(1);
  chunk.set_codec(proto::CODEC_NONE);
  chunk.set_columns(columns.SerializeAsString());
  chunk.set_raw_size(static_cast<uint32_t>(chunk.columns().size()));
  std::string bytes = chunk.SerializeAsString();
  ChunkDecoder decoder;
  DecodedChunk out;
  Status s = decoder.Decode(bytes.data(), bytes.size(), 0, false, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("column 'result'"), std::string::npos) << s.message();
}

TEST(ChunkCodecTest, RejectsOutOfRangeValueForA32BitField) {
  proto::ChunkColumns columns;
  columns.add_op(static_cast<uint32_t>(Op::kFree));
  columns.add_thread(0);
  columns.add_timestamp_ns(0);
  columns.add_latency_ns(0);
  columns.add_addr(0);
  proto::ChunkColumns bad = columns;
  bad.set_op(0, static_cast<uint32_t>(Op::kMprotect));
  bad.add_size(4096);
  bad.add_protect(uint64_t{1} << 40);  // protect is 32 bits
  bad.add_error(0);
  proto::Chunk chunk;
  chunk.set_event_count(1);
  chunk.set_columns(bad.SerializeAsString());
  chunk.set_raw_size(static_cast<uint32_t>(chunk.columns().size()));
  std::string bytes = chunk.SerializeAsString();
  ChunkDecoder decoder;
  DecodedChunk out;
  Status s = decoder.Decode(bytes.data(), bytes.size(), 0, false, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("out of range"), std::string::npos) << s.message();
}

TEST(ChunkCodecTest, RejectsUnknownOperationAndAbsurdCounts) {
  proto::ChunkColumns columns;
  columns.add_op(99);
  columns.add_thread(0);
  columns.add_timestamp_ns(0);
  columns.add_latency_ns(0);
  proto::Chunk chunk;
  chunk.set_event_count(1);
  chunk.set_columns(columns.SerializeAsString());
  chunk.set_raw_size(static_cast<uint32_t>(chunk.columns().size()));
  std::string bytes = chunk.SerializeAsString();
  ChunkDecoder decoder;
  DecodedChunk out;
  Status s = decoder.Decode(bytes.data(), bytes.size(), 0, false, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown operation code 99"), std::string::npos) << s.message();

  chunk.set_event_count(4000000000u);
  bytes = chunk.SerializeAsString();
  s = decoder.Decode(bytes.data(), bytes.size(), 0, false, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("claims 4000000000 events"), std::string::npos) << s.message();

  chunk.set_event_count(1);
  chunk.set_codec(proto::CODEC_ZSTD);
  chunk.set_raw_size(3000000000u);
  bytes = chunk.SerializeAsString();
  s = decoder.Decode(bytes.data(), bytes.size(), 0, false, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("uncompressed bytes"), std::string::npos) << s.message();
}

TEST(ChunkCodecTest, RejectsUndefinedStringId) {
  std::vector<Event> events = MakeEvents(Mix::kEveryOp, 3, 200);
  bool has_debug_alloc = false;
  for (Event& e : events) {
    if (e.op == Op::kHostDebugAlloc) {
      e.file = 5;
      has_debug_alloc = true;
    }
  }
  ASSERT_TRUE(has_debug_alloc);
  ChunkEncoder encoder;
  std::string bytes;
  encoder.Encode(events, 0, 1, std::vector<std::string>{"a.cpp"}, true, 3, &bytes);
  ChunkDecoder decoder;
  DecodedChunk out;
  Status s = decoder.Decode(bytes.data(), bytes.size(), 0, false, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("string id 5 is not defined"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace vmreplay
