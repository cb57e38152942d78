#include "proto/text_format.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/proto/trace_test_util.h"
#include "tests/support/event_mix.h"

namespace vmreplay {
namespace {

using testing::MakeEvents;
using testing::Mix;

std::string_view Strings(uint32_t id) { return id == 1 ? "gc \"x\".cpp" : ""; }
uint32_t Intern(std::string_view s) { return s == "gc \"x\".cpp" ? 1 : 99; }

TEST(TextFormatTest, EveryOperationRoundTripsThroughOneLine) {
  for (const Event& e : MakeEvents(Mix::kEveryOp, 11, 3000)) {
    std::string line;
    AppendEventLine(e, Strings, &line);
    Event parsed;
    std::string error;
    ASSERT_TRUE(ParseEventLine(line, Intern, &parsed, &error)) << line << ": " << error;
    ASSERT_EQ(parsed, e) << line;
    std::string again;
    AppendEventLine(parsed, Strings, &again);
    ASSERT_EQ(again, line);
  }
}

TEST(TextFormatTest, LineLooksAsDocumented) {
  Event e;
  e.op = Op::kVirtualAlloc;
  e.thread = 1204;
  e.timestamp_ns = 1500;
  e.latency_ns = 830;
  e.size = 65536;
  e.flags = 0x2000;
  e.protect = 0x4;
  e.result = 0x7ff6a0000000;
  std::string line;
  AppendEventLine(e, Strings, &line);
  EXPECT_EQ(line,
            "VirtualAlloc thread=1204 ts=1500 lat=830 addr=0x0 size=65536 flags=0x2000 "
            "protect=0x4 level=0 -> result=0x7ff6a0000000 hresult=0x0 error=0");
}

// origin (format 1.3) is written by name and left out for a hooked call, so the text of a
// trace made before 1.3 is unchanged, and a line without it reads as a hooked call.
TEST(TextFormatTest, OriginIsNamedAndLeftOutForHookedCalls) {
  Event e;
  e.op = Op::kMunmap;
  e.thread = 7;
  e.addr = 0x7f0000000000;
  e.size = 8192;
  std::string line;
  AppendEventLine(e, Strings, &line);
  EXPECT_EQ(line, "munmap thread=7 ts=0 lat=0 addr=0x7f0000000000 size=8192 -> error=0");
  e.origin = static_cast<uint32_t>(CallOrigin::kHeapInternal);
  line.clear();
  AppendEventLine(e, Strings, &line);
  EXPECT_EQ(line,
            "munmap thread=7 ts=0 lat=0 addr=0x7f0000000000 size=8192 -> error=0 origin=heap");
  for (const auto& [text, origin] : std::vector<std::pair<std::string, uint32_t>>{
           {"", 0}, {" origin=libc", 1}, {" origin=loader", 3}, {" origin=4", 4}}) {
    Event parsed;
    std::string error;
    ASSERT_TRUE(ParseEventLine("munmap thread=7 ts=0 lat=0 addr=0x1000 size=1 -> error=0" + text,
                               Intern, &parsed, &error))
        << text << ": " << error;
    EXPECT_EQ(parsed.origin, origin) << text;
  }
  Event parsed;
  std::string error;
  EXPECT_FALSE(
      ParseEventLine("malloc thread=1 ts=0 lat=0 size=8 -> result=0x10 error=0 origin=libc", Intern,
                     &parsed, &error));
  EXPECT_NE(error.find("does not belong to malloc"), std::string::npos) << error;
}

TEST(TextFormatTest, AcceptsDecimalOrHexAnywhereAndNegativeSignedFields) {
  Event e;
  std::string error;
  ASSERT_TRUE(
      ParseEventLine("mmap thread=1 ts=2 lat=3 addr=4096 size=0x1000 protect=3 flags=34 "
                     "fd=-1 offset=0 -> result=0x10000 error=0",
                     Intern, &e, &error))
      << error;
  EXPECT_EQ(e.addr, 4096u);
  EXPECT_EQ(e.size, 4096u);
  EXPECT_EQ(e.fd, -1);
}

struct BadLine {
  const char* line;
  const char* expected;
};

TEST(TextFormatTest, MalformedLinesSayWhatIsWrong) {
  const BadLine cases[] = {
      {"Frobnicate thread=1 ts=2 lat=3", "unknown operation 'Frobnicate'"},
      {"free thread=1 ts=2 lat=3", "missing field 'addr' for free"},
      {"free ts=2 lat=3 addr=0x10", "missing field 'thread'"},
      {"free thread=1 ts=2 lat=3 addr=0x1g", "field 'addr': malformed"},
      {"free thread=1 ts=2 lat=3 addr=0x10 size=4", "field 'size' does not belong to free"},
      {"free thread=1 ts=2 lat=3 addr=0x10 addr=0x20", "field 'addr' given twice"},
      {"mprotect thread=1 ts=2 lat=3 addr=0 size=1 protect=0x100000000 -> error=0",
       "out-of-range number"},
      {"mmap thread=1 ts=2 lat=3 addr=0 size=1 protect=0 flags=0 fd=2147483648 offset=0 -> "
       "result=0 error=0",
       "field 'fd'"},
      {"free thread=1 ts=-2 lat=3 addr=0", "field 'ts': malformed"},
      {"HostDebugAlloc thread=1 ts=2 lat=3 heap=1 size=2 level=0 file=\"abc line=1 -> "
       "result=0 hresult=0",
       "unterminated quoted string"},
      {"HostDebugAlloc thread=1 ts=2 lat=3 heap=1 size=2 level=0 file=abc line=1 -> result=0 "
       "hresult=0",
       "malformed string"},
      {"free thread=1 ts=2 lat=3 addr", "expected name=value"},
  };
  for (const BadLine& c : cases) {
    Event e;
    std::string error;
    EXPECT_FALSE(ParseEventLine(c.line, Intern, &e, &error)) << c.line;
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.line << " -> " << error;
  }
}

TEST(TextFormatTest, HeaderAndFooterLinesRoundTrip) {
  proto::Header h = testing::TestHeader();
  h.set_format_major(1);
  std::string line = FormatHeaderLine(h);
  EXPECT_EQ(line.rfind("header { format_major: 1 platform: PLATFORM_WINDOWS", 0), 0u) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
  proto::Header parsed;
  std::string error;
  ASSERT_TRUE(ParseHeaderLine(line, &parsed, &error)) << error;
  EXPECT_EQ(parsed.SerializeAsString(), h.SerializeAsString());

  proto::Footer f;
  f.set_event_count(3);
  f.set_dropped_events(2);
  proto::Footer parsed_footer;
  ASSERT_TRUE(ParseFooterLine(FormatFooterLine(f), &parsed_footer, &error)) << error;
  EXPECT_EQ(parsed_footer.dropped_events(), 2u);

  EXPECT_FALSE(ParseHeaderLine("header { page_size: banana }", &parsed, &error));
  EXPECT_NE(error.find("header: column"), std::string::npos) << error;
}

TEST(TextFormatTest, TextReaderNamesFileLineAndEventIndex) {
  testing::TempDir dir;
  const std::string path = dir.Path("bad.txt");
  testing::WriteFile(path, FormatHeaderLine(testing::TestHeader()) +
                               "\n# a comment\n\nfree thread=1 ts=2 lat=3 addr=0x10 ->\n"
                               "free thread=1 ts=2 lat=3 ->\n");
  std::unique_ptr<EventSource> source;
  ASSERT_TRUE(OpenTrace(path, &source).ok());
  Event e;
  EXPECT_TRUE(source->Next(&e));
  EXPECT_FALSE(source->Next(&e));
  EXPECT_EQ(source->status().message(), path + ":5: event 1: missing field 'addr' for free");
}

TEST(TextFormatTest, FooterEventCountIsChecked) {
  testing::TempDir dir;
  const std::string path = dir.Path("footer.txt");
  testing::WriteFile(path,
                     FormatHeaderLine(testing::TestHeader()) +
                         "\nfree thread=1 ts=2 lat=3 addr=0x10 ->\nfooter { event_count: 2 }\n");
  std::vector<Event> events;
  Status s = testing::ReadTrace(path, &events);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("footer counts 2 events, the text has 1"), std::string::npos)
      << s.message();
}

// A line is read up to a cap, so a text trace without newlines cannot take all memory.
TEST(TextFormatTest, ALineLongerThan64MiBIsAnErrorWithItsLineNumber) {
  testing::TempDir dir;
  std::string text = "header { format_major: 1 }\n#";
  text.append(size_t{64} << 20, 'x');
  testing::WriteFile(dir.Path("long.txt"), text);
  std::vector<Event> events;
  Status s = testing::ReadTrace(dir.Path("long.txt"), &events);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), dir.Path("long.txt") + ":2: event 0: line longer than 64 MiB");
}

}  // namespace
}  // namespace vmreplay
