// The vmreplay binary's trace subcommands, end to end: exit codes and what the user reads.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/proto/trace_test_util.h"
#include "tests/support/cli_runner.h"
#include "tests/support/event_mix.h"

namespace vmreplay {
namespace {

using CommandRun = testing::CliResult;
CommandRun Vmreplay(const std::string& args) { return testing::RunVmreplay(args); }

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    trace_ = dir_.Path("t.pb");
    std::vector<Event> events = testing::MakeEvents(testing::Mix::kClrHost, 3, 5000);
    std::vector<Event> more = testing::MakeEvents(testing::Mix::kEveryOp, 4, 500);
    events.insert(events.end(), more.begin(), more.end());
    ASSERT_TRUE(testing::WriteTrace(trace_, events, WriterOptions{.events_per_chunk = 1000}).ok());
  }
  testing::TempDir dir_;
  std::string trace_;
};

TEST_F(CliTest, InfoSummarisesTheTrace) {
  CommandRun r = Vmreplay("info " + trace_);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("5500 in"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HostAlloc"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bytes/event"), std::string::npos) << r.out;
}

TEST_F(CliTest, CheckPassesAGoodTraceAndLocatesDamage) {
  CommandRun good = Vmreplay("check " + trace_);
  EXPECT_EQ(good.code, 0) << good.out;
  EXPECT_NE(good.out.find("OK"), std::string::npos) << good.out;

  std::string bytes = testing::ReadFile(trace_);
  const size_t third_chunk = testing::FrameOffsets(bytes).at(3);  // [0] is the header
  bytes[third_chunk + 100] ^= 0x40;
  const std::string damaged = dir_.Path("damaged.pb");
  testing::WriteFile(damaged, bytes);
  CommandRun bad = Vmreplay("check " + damaged + " --salvage " + dir_.Path("salvaged.pb"));
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(
      bad.out.find("DAMAGE " + damaged + ": chunk 2 (byte offset " + std::to_string(third_chunk) +
                   ", after 2000 intact events): chunk "
                   "checksum mismatch"),
      std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("4500 intact events"), std::string::npos) << bad.out;
  CommandRun salvaged = Vmreplay("check " + dir_.Path("salvaged.pb"));
  EXPECT_EQ(salvaged.code, 0) << salvaged.out;
  EXPECT_NE(salvaged.out.find("4500 intact events"), std::string::npos) << salvaged.out;
}

TEST_F(CliTest, DumpAndEncodeRoundTripByteForByte) {
  const std::string text = dir_.Path("t.txt"), binary = dir_.Path("t2.pb"),
                    text2 = dir_.Path("t2.txt");
  ASSERT_EQ(Vmreplay("dump " + trace_ + " -o " + text).code, 0);
  CommandRun enc = Vmreplay("encode " + text + " -o " + binary + " --chunk-events 1000");
  ASSERT_EQ(enc.code, 0) << enc.out;
  EXPECT_EQ(testing::ReadFile(binary), testing::ReadFile(trace_));
  ASSERT_EQ(Vmreplay("dump " + binary + " -o " + text2).code, 0);
  EXPECT_EQ(testing::ReadFile(text2), testing::ReadFile(text));
}

TEST_F(CliTest, BadTextGivesOneLineNamingFileLineAndEvent) {
  const std::string text = dir_.Path("bad.txt");
  ASSERT_EQ(Vmreplay("dump " + trace_ + " -o " + text).code, 0);
  std::string content = testing::ReadFile(text);
  // Break the third event line: drop its size field.
  size_t line3 = 0;
  for (int i = 0; i < 3; ++i) line3 = content.find('\n', line3) + 1;
  size_t size_at = content.find(" size=", line3);
  size_t size_end = content.find(' ', size_at + 1);
  content.erase(size_at, size_end - size_at);
  testing::WriteFile(text, content);
  CommandRun r = Vmreplay("encode " + text + " -o " + dir_.Path("out.pb"));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out.rfind("vmreplay: " + text + ":4: event 2: missing field 'size'", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_TRUE(testing::ReadFile(dir_.Path("out.pb")).empty()) << "a half-written trace was left";
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Vmreplay("").code, 2);
  EXPECT_EQ(Vmreplay("frobnicate").code, 2);
  EXPECT_EQ(Vmreplay("info").code, 2);
  CommandRun help = Vmreplay("check --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--salvage"), std::string::npos) << help.out;
  CommandRun version = Vmreplay("--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_NE(version.out.find("vmreplay "), std::string::npos);
}

}  // namespace
}  // namespace vmreplay
