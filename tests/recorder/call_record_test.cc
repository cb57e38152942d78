// The collector encodes merged records straight into trace columns through CallRecordAccess: every
// field of every Linux call must come out of the trace as the Event the call stands for.
#include "recorder/linux/call_record.h"

#include <gtest/gtest.h>

#include <vector>

#include "proto/chunk_codec.h"
#include "proto/portable/column_encoder.h"

namespace vmreplay::recorder {
namespace {

// A record with every field set to something distinct, as if the hook had filled them all.
CallRecord Full(WireOp op, uint64_t seed) {
  CallRecord r{};
  r.op = op;
  r.tid = 77;
  r.timestamp = 1000 + seed * 10;
  r.latency = 4 + seed;
  r.addr = 0x7f0000001000 + seed * 0x1000;
  r.size = 8192 + seed;
  r.arg = 300 + seed;
  r.new_addr = 0x7e0000000000 + seed * 0x1000;
  r.result = 0x7d0000000000 + seed * 0x10;
  r.flags = 0x22 + static_cast<uint32_t>(seed);
  r.protect = 3;
  r.error = 12;
  r.fd = -1;
  return r;
}

TEST(CallRecordAccessTest, EveryLinuxCallDecodesAsItsEvent) {
  const WireOp ops[] = {kWireMmap,    kWireMunmap,        kWireMremap,       kWireMprotect,
                        kWireMadvise, kWireMalloc,        kWireCalloc,       kWireRealloc,
                        kWireFree,    kWirePosixMemalign, kWireAlignedAlloc, kWireMemalign,
                        kWireValloc,  kWirePvalloc};
  std::vector<CallRecord> records;
  for (WireOp op : ops) records.push_back(Full(op, records.size()));
  const CallRecordAccess access{ClockConversion{.start_ticks = 1000, .ns_per_tick = 0.5}};

  ColumnEncoder columns;
  std::string raw;
  columns.EncodeRows(std::span<const CallRecord>(records), access, 0, {}, &raw);
  ChunkEncoder chunk;
  std::string bytes;
  chunk.EncodeColumns(raw, 0, static_cast<uint32_t>(records.size()), true, 1, &bytes);
  ChunkDecoder decoder;
  DecodedChunk decoded;
  const Status s = decoder.Decode(bytes.data(), bytes.size(), 0, false, &decoded);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(decoded.events.size(), records.size());

  for (size_t i = 0; i < records.size(); ++i) {
    const CallRecord& r = records[i];
    Event want;
    want.op = static_cast<Op>(r.op);
    want.thread = 77;
    want.timestamp_ns = (r.timestamp - 1000) / 2;
    want.latency_ns = r.latency / 2;
    const uint64_t a = r.arg;
    switch (r.op) {
      case kWireMmap:
        want.addr = r.addr, want.size = r.size, want.protect = 3, want.flags = r.flags;
        want.fd = -1, want.offset = a, want.result = r.result, want.error = 12;
        break;
      case kWireMunmap:
        want.addr = r.addr, want.size = r.size, want.error = 12;
        break;
      case kWireMremap:
        want.addr = r.addr, want.size = r.size, want.new_size = a, want.flags = r.flags;
        want.new_addr = r.new_addr, want.result = r.result, want.error = 12;
        break;
      case kWireMprotect:
        want.addr = r.addr, want.size = r.size, want.protect = 3, want.error = 12;
        break;
      case kWireMadvise:
        want.addr = r.addr, want.size = r.size, want.flags = r.flags, want.error = 12;
        break;
      case kWireMalloc:
      case kWireValloc:
      case kWirePvalloc:
        want.size = r.size, want.result = r.result, want.error = 12;
        break;
      case kWireCalloc:
        want.count = a, want.size = r.size, want.result = r.result, want.error = 12;
        break;
      case kWireRealloc:
        want.addr = r.addr, want.size = r.size, want.result = r.result, want.error = 12;
        break;
      case kWireFree:
        want.addr = r.addr;
        break;
      default:  // posix_memalign, aligned_alloc, memalign
        want.alignment = a, want.size = r.size, want.result = r.result, want.error = 12;
        break;
    }
    EXPECT_EQ(decoded.events[i], want) << "operation " << OpName(want.op);
  }
}

TEST(CallRecordAccessTest, FixedPointClockMatchesTheDoubleConversion) {
  const ClockConversion c{.start_ticks = 123456789, .ns_per_tick = 0.3846153846};  // 2.6 GHz
  const FixedClock fixed(c);
  const uint64_t hour_in_ticks = static_cast<uint64_t>(3600e9 / c.ns_per_tick);
  for (uint64_t ticks :
       {uint64_t{0}, uint64_t{1}, uint64_t{1000}, hour_in_ticks / 7, hour_in_ticks}) {
    const uint64_t want = static_cast<uint64_t>(static_cast<double>(ticks) * c.ns_per_tick);
    const uint64_t got = fixed.DurationNs(ticks);
    EXPECT_LE(got > want ? got - want : want - got, 1u) << ticks << " ticks";
    EXPECT_EQ(fixed.ToNs(c.start_ticks + ticks), got);
  }
  EXPECT_EQ(fixed.ToNs(c.start_ticks - 5), 0u);  // before the session start
}

}  // namespace
}  // namespace vmreplay::recorder
