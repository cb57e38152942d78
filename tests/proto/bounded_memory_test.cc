// BinaryTraceReader's memory on crafted damage: what the reader allocates is bounded by its
// window and the largest intact chunk, never by a number a damaged file claims. This binary
// counts every byte allocated through operator new (the reader's vectors and strings).
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

#include "proto/binary_trace_reader.h"
#include "tests/proto/damage_shapes.h"
#include "tests/proto/trace_test_util.h"

namespace {
std::atomic<int64_t> live_bytes{0};
std::atomic<int64_t> peak_bytes{0};

void* Counted(size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  const int64_t now = live_bytes += static_cast<int64_t>(malloc_usable_size(p));
  int64_t peak = peak_bytes.load();
  while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
  }
  return p;
}
void Uncounted(void* p) {
  if (p == nullptr) return;
  live_bytes -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}
}  // namespace

void* operator new(size_t size) { return Counted(size); }
void* operator new[](size_t size) { return Counted(size); }
void operator delete(void* p) noexcept { Uncounted(p); }
void operator delete[](void* p) noexcept { Uncounted(p); }
void operator delete(void* p, size_t) noexcept { Uncounted(p); }
void operator delete[](void* p, size_t) noexcept { Uncounted(p); }

namespace vmreplay {
namespace {

// Peak bytes allocated while salvaging `path`, above what was live before.
int64_t PeakWhileSalvaging(const std::string& path, uint64_t* events) {
  const int64_t before = live_bytes.load();
  peak_bytes = before;
  {
    std::unique_ptr<BinaryTraceReader> reader;
    EXPECT_TRUE(BinaryTraceReader::Open(path, ReaderOptions{.skip_damage = true}, &reader).ok());
    *events = 0;
    while (const std::vector<Event>* chunk = reader->NextChunk()) *events += chunk->size();
  }
  return peak_bytes.load() - before;
}

// 64 tiny chunks whose string ids jump by 2^20 each: a reader that sizes its string table by
// id allocates 2 GiB for this 5 KB file (737 bytes and 8 chunks took 300 MB).
TEST(BoundedMemoryTest, JumpingStringIdsCostOnlyTheStringsThemselves) {
  testing::TempDir dir;
  const std::string bytes = testing::JumpingStringIds(64);
  ASSERT_LT(bytes.size(), 6000u);
  testing::WriteFile(dir.Path("jump.pb"), bytes);
  uint64_t events = 0;
  const int64_t peak = PeakWhileSalvaging(dir.Path("jump.pb"), &events);
  EXPECT_EQ(events, 64u);
  EXPECT_LT(peak, 4 << 20) << peak;  // the 1 MiB read window and small change
}

// Fake headers claiming up to 16 MB payloads: refuting them must not buffer the payloads.
TEST(BoundedMemoryTest, FakeFramesClaimingLargePayloadsAreNotBuffered) {
  testing::TempDir dir;
  testing::WriteFile(dir.Path("dense.pb"), testing::DenseFakeFrames(size_t{16} << 20));
  uint64_t events = 0;
  const int64_t peak = PeakWhileSalvaging(dir.Path("dense.pb"), &events);
  EXPECT_EQ(events, 0u);
  EXPECT_LT(peak, 4 << 20) << peak;  // the window and the hashing buffer, 1 MiB each
}

}  // namespace
}  // namespace vmreplay
