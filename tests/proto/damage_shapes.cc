#include "tests/proto/damage_shapes.h"

#include <random>
#include <string_view>
#include <vector>

#include "proto/chunk_codec.h"
#include "proto/frame.h"
#include "proto/trace.pb.h"
#include "tests/proto/trace_test_util.h"

namespace vmreplay::testing {
namespace {

void PutLe(uint64_t v, int bytes, char* p) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

// A chunk frame header claiming `length` payload bytes, with a checksum that cannot match.
std::string FakeChunkHeader(uint32_t length) {
  std::string h(kFrameHeaderSize, '\0');
  PutLe(kFrameSync, 4, &h[0]);
  h[4] = static_cast<char>(FrameKind::kChunk);
  PutLe(length, 4, &h[8]);
  PutLe(0x0123456789abcdefull, 8, &h[12]);
  return h;
}

}  // namespace

std::string TracePrefix() {
  std::string out(kFileMagic, sizeof kFileMagic);
  proto::Header h = TestHeader();
  h.set_format_major(kFormatMajor);
  AppendFrame(FrameKind::kHeader, h.SerializeAsString(), &out);
  return out;
}

std::string DenseFakeFrames(size_t junk_bytes) {
  std::string out = TracePrefix();
  const size_t n = junk_bytes / kFrameHeaderSize;
  for (size_t i = 0; i < n; ++i) {
    const size_t rest = (n - i - 1) * kFrameHeaderSize;  // from this payload to the end
    out += FakeChunkHeader(static_cast<uint32_t>(rest));
  }
  return out;
}

std::string IntactAndFakeAlternating(size_t junk_bytes) {
  std::string out = TracePrefix();
  const size_t pair = 2 * kFrameHeaderSize;
  const size_t n = junk_bytes / pair;
  for (size_t i = 0; i < n; ++i) {
    AppendFrame(FrameKind::kChunk, std::string_view(), &out);  // empty: no events
    const size_t rest = (n - i - 1) * pair;
    out += FakeChunkHeader(static_cast<uint32_t>(rest));
  }
  return out;
}

std::string RandomJunk(size_t junk_bytes, uint64_t seed) {
  std::string out = TracePrefix();
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < junk_bytes; ++i) out.push_back(static_cast<char>(rng()));
  return out;
}

std::string JumpingStringIds(int chunks) {
  std::string out = TracePrefix();
  out += FakeChunkHeader(0);  // damage first, so that string ids may jump
  ChunkEncoder encoder;
  std::string chunk;
  for (int k = 0; k < chunks; ++k) {
    const uint32_t id = static_cast<uint32_t>(k + 1) * kMaxEventsPerChunk;
    Event e;
    e.op = Op::kHostDebugAlloc;
    e.file = id;
    const std::vector<std::string> strings = {"f"};
    encoder.Encode({&e, 1}, static_cast<uint64_t>(k), id, strings, /*compress=*/false, 0, &chunk);
    AppendFrame(FrameKind::kChunk, chunk, &out);
  }
  return out;
}

}  // namespace vmreplay::testing
