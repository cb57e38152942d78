// Bad input never crashes, hangs or passes silently: truncation at every byte offset, byte
// flips anywhere, and salvage of every intact chunk.
#include <gtest/gtest.h>

#include <random>

#include "proto/binary_trace_reader.h"
#include "proto/event_source.h"
#include "proto/frame.h"
#include "tests/proto/trace_test_util.h"
#include "tests/support/event_mix.h"

namespace vmreplay {
namespace {

using testing::MakeEvents;
using testing::Mix;

constexpr uint32_t kChunkEvents = 40;

class DamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    events_ = MakeEvents(Mix::kEveryOp, 21, 3 * kChunkEvents + 17);
    path_ = dir_.Path("good.pb");
    ASSERT_TRUE(
        testing::WriteTrace(path_, events_, WriterOptions{.events_per_chunk = kChunkEvents}).ok());
    bytes_ = testing::ReadFile(path_);
  }

  // Strict read of a damaged copy: must fail with a one-line message naming the file.
  Status StrictRead(const std::string& bytes, std::vector<Event>* read) {
    const std::string path = dir_.Path("damaged.pb");
    testing::WriteFile(path, bytes);
    Status s = testing::ReadTrace(path, read);
    if (!s.ok()) {
      EXPECT_EQ(s.message().rfind(path, 0), 0u) << s.message();
      EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
    }
    return s;
  }

  // Salvage read: every delivered event must be one of the originals, in order, and chunks
  // untouched by the damage must all be there.
  std::vector<Event> SalvageRead(const std::string& bytes) {
    const std::string path = dir_.Path("salvage.pb");
    testing::WriteFile(path, bytes);
    std::unique_ptr<BinaryTraceReader> reader;
    std::vector<Event> out;
    if (!BinaryTraceReader::Open(path, ReaderOptions{.skip_damage = true}, &reader).ok()) {
      return out;
    }
    while (const std::vector<Event>* chunk = reader->NextChunk()) {
      out.insert(out.end(), chunk->begin(), chunk->end());
    }
    EXPECT_TRUE(reader->status().ok());
    return out;
  }

  bool IsSubsequenceOfOriginal(const std::vector<Event>& got) {
    size_t j = 0;
    for (const Event& e : got) {
      while (j < events_.size() && !(events_[j] == e)) ++j;
      if (j == events_.size()) return false;
      ++j;
    }
    return true;
  }

  testing::TempDir dir_;
  std::vector<Event> events_;
  std::string path_;
  std::string bytes_;
};

TEST_F(DamageTest, TruncationAtEveryByteOffsetIsReportedAndIntactChunksSurvive) {
  ASSERT_GT(bytes_.size(), 100u);
  size_t previous_salvaged = 0;
  for (size_t cut = 0; cut < bytes_.size(); ++cut) {
    std::vector<Event> read;
    Status s = StrictRead(bytes_.substr(0, cut), &read);
    ASSERT_FALSE(s.ok()) << "truncation at " << cut << " went unnoticed";
    std::vector<Event> salvaged = SalvageRead(bytes_.substr(0, cut));
    ASSERT_TRUE(IsSubsequenceOfOriginal(salvaged)) << cut;
    // Whole chunks only, and never fewer as the cut moves later.
    ASSERT_TRUE(salvaged.size() % kChunkEvents == 0 || salvaged.size() == events_.size()) << cut;
    ASSERT_GE(salvaged.size(), previous_salvaged) << cut;
    previous_salvaged = salvaged.size();
  }
  EXPECT_EQ(previous_salvaged, events_.size());  // the last cut loses only the footer
  std::vector<Event> read;
  ASSERT_TRUE(StrictRead(bytes_, &read).ok());
  EXPECT_EQ(read, events_);
}

TEST_F(DamageTest, EverySingleByteFlipIsDetectedAndOtherChunksAreSalvaged) {
  std::mt19937_64 rng(5);
  for (size_t at = 0; at < bytes_.size(); ++at) {
    std::string damaged = bytes_;
    damaged[at] = static_cast<char>(damaged[at] ^ (1 + rng() % 255));
    std::vector<Event> read;
    ASSERT_FALSE(StrictRead(damaged, &read).ok()) << "flip at " << at << " went unnoticed";
    std::vector<Event> salvaged = SalvageRead(damaged);
    ASSERT_TRUE(IsSubsequenceOfOriginal(salvaged)) << at;
    // One flipped byte costs at most one chunk (or the header, which stops everything).
    if (at >= testing::FrameOffsets(bytes_).at(1)) {
      ASSERT_GE(salvaged.size() + kChunkEvents, events_.size()) << "flip at " << at;
    }
  }
}

TEST_F(DamageTest, RandomMultiByteDamageNeverCrashes) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 300; ++round) {
    std::string damaged = bytes_;
    int flips = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < flips; ++i) damaged[rng() % damaged.size()] = static_cast<char>(rng());
    std::vector<Event> read;
    StrictRead(damaged, &read);
    ASSERT_TRUE(IsSubsequenceOfOriginal(SalvageRead(damaged)));
  }
}

TEST_F(DamageTest, AbsurdFrameLengthIsRejectedWithoutAllocating) {
  std::string damaged = bytes_;
  // The first chunk's frame length field, set to 4 GiB - 1.
  const size_t chunk_frame = testing::FrameOffsets(bytes_).at(1);
  ASSERT_EQ(damaged.substr(chunk_frame, 4), "VMRF");
  for (int i = 0; i < 4; ++i) damaged[chunk_frame + 8 + i] = '\xff';
  std::vector<Event> read;
  Status s = StrictRead(damaged, &read);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exceeds the 64 MiB limit"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("chunk 0"), std::string::npos) << s.message();
}

TEST_F(DamageTest, EmptyAndForeignFilesAreNamed) {
  std::vector<Event> read;
  Status s = StrictRead("", &read);
  EXPECT_NE(s.message().find("empty file"), std::string::npos) << s.message();
  s = StrictRead("PK\x03\x04 not a trace", &read);
  EXPECT_NE(s.message().find("bad magic"), std::string::npos) << s.message();
  s = StrictRead(bytes_ + "junk", &read);
  ASSERT_FALSE(s.ok());
  std::vector<Event> missing;
  s = testing::ReadTrace(dir_.Path("does-not-exist.pb"), &missing);
  EXPECT_NE(s.message().find("cannot open"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace vmreplay
