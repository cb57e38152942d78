// FrameScanner through BinaryTraceReader: finding frames after damage costs time linear in
// the file size whatever the damage holds. The shapes are those that once took seconds per
// megabyte (tests/proto/damage_shapes.h): the work counters must stay within a few passes over
// the file, and the time within what a quadratic scan could not meet.
#include "proto/frame_scanner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "proto/binary_trace_reader.h"
#include "tests/proto/damage_shapes.h"
#include "tests/proto/trace_test_util.h"
#include "tests/support/event_mix.h"

namespace vmreplay {
namespace {

constexpr size_t kJunk = size_t{16} << 20;

struct Salvage {
  uint64_t events = 0;
  uint64_t damage = 0;
  FrameScanner::Stats stats;
  double seconds = 0;
};

Salvage SalvageFile(const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<BinaryTraceReader> reader;
  Salvage s;
  Status open = BinaryTraceReader::Open(path, ReaderOptions{.skip_damage = true}, &reader);
  EXPECT_TRUE(open.ok()) << open.message();
  if (!open.ok()) return s;
  while (const std::vector<Event>* chunk = reader->NextChunk()) s.events += chunk->size();
  EXPECT_TRUE(reader->status().ok());
  EXPECT_LE(reader->damage().size(), BinaryTraceReader::kMaxDamageRecords);
  s.damage = reader->damage_count();
  s.stats = reader->scan_stats();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

// A few passes over the file at most: reading, the window's refills, and at most kMaxOverlap
// failed verifications over each byte.
void ExpectLinear(const Salvage& s, uint64_t file_size) {
  EXPECT_LE(s.stats.bytes_read,
            (FrameScanner::kMaxOverlap + 2) * file_size + 2 * FrameScanner::kWindow);
  EXPECT_LE(s.stats.bytes_hashed, (FrameScanner::kMaxOverlap + 1) * file_size);
  // Quadratic verification of these shapes takes minutes (1 MB: 2.4 s, 4 MB: 37 s).
  EXPECT_LT(s.seconds, 10.0);
}

TEST(FrameScannerTest, DenseFakeFrameHeadersAreScannedInLinearTime) {
  testing::TempDir dir;
  const std::string bytes = testing::DenseFakeFrames(kJunk);
  testing::WriteFile(dir.Path("dense.pb"), bytes);
  const Salvage s = SalvageFile(dir.Path("dense.pb"));
  EXPECT_EQ(s.events, 0u);
  EXPECT_GT(s.stats.candidates, kJunk / 20 - 10);  // every fake header was looked at
  EXPECT_GT(s.stats.unverified, 0u);
  ExpectLinear(s, bytes.size());
}

TEST(FrameScannerTest, IntactFramesBetweenFakeOnesAreScannedInLinearTime) {
  testing::TempDir dir;
  const std::string bytes = testing::IntactAndFakeAlternating(kJunk);
  testing::WriteFile(dir.Path("alt.pb"), bytes);
  const Salvage s = SalvageFile(dir.Path("alt.pb"));
  ExpectLinear(s, bytes.size());
}

TEST(FrameScannerTest, RandomJunkIsReadOnce) {
  testing::TempDir dir;
  const std::string bytes = testing::RandomJunk(kJunk, 7);
  testing::WriteFile(dir.Path("random.pb"), bytes);
  const Salvage s = SalvageFile(dir.Path("random.pb"));
  EXPECT_LE(s.stats.bytes_read, bytes.size() + FrameScanner::kWindow);
  ExpectLinear(s, bytes.size());
}

// Real damage leaves few failed frames open: two frames whose length fields were flipped to
// claim most of the file still let every other chunk be found.
TEST(FrameScannerTest, ChunksAfterTwoFramesWithCorruptLengthsAreSalvaged) {
  testing::TempDir dir;
  const std::vector<Event> events = testing::MakeEvents(testing::Mix::kClrHost, 9, 2000);
  ASSERT_TRUE(
      testing::WriteTrace(dir.Path("good.pb"), events, WriterOptions{.events_per_chunk = 100})
          .ok());
  std::string bytes = testing::ReadFile(dir.Path("good.pb"));
  const std::vector<size_t> frames = testing::FrameOffsets(bytes);
  ASSERT_EQ(frames.size(), 22u);  // header, 20 chunks, footer
  for (size_t chunk : {3, 7}) {
    const size_t at = frames[1 + chunk];
    const uint32_t length = static_cast<uint32_t>(bytes.size() - at - 20 - 1);
    for (int i = 0; i < 4; ++i) bytes[at + 8 + i] = static_cast<char>(length >> (8 * i));
  }
  testing::WriteFile(dir.Path("damaged.pb"), bytes);
  const Salvage s = SalvageFile(dir.Path("damaged.pb"));
  EXPECT_EQ(s.events, 1800u);
  EXPECT_EQ(s.stats.unverified, 0u);
}

}  // namespace
}  // namespace vmreplay
