// Every byte kept (trace.proto 1.1): the command line, metadata values, DebugAlloc file names
// and thread names hold bytes that need not be UTF-8, and come back exactly through both
// writers, the reader, the text form and the CLI. Metadata keys, protobuf map keys, must be
// UTF-8: every writer refuses one that is not, rather than write a trace nothing can read.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proto/event_source.h"
#include "proto/frame.h"
#include "proto/portable/portable_trace_writer.h"
#include "proto/portable/utf8.h"
#include "proto/text_format.h"
#include "proto/trace_writer.h"
#include "tests/proto/trace_test_util.h"
#include "tests/support/cli_runner.h"
#include "tests/support/event_mix.h"

extern char** environ;

namespace vmreplay {
namespace {

const std::string kArg = "\xff\xfe";
const std::string kCwd = "/home/\xe9t\xe9";  // Latin-1, not UTF-8
const std::vector<std::string> kFiles = {"gc\x80.cpp", std::string("nul\0\x01\"q\"\\\n", 10),
                                         "caf\xc3\xa9.cpp"};
const std::string kThreadName = "w\xf6rker\xc0";

// What a reader gives back, strings resolved, for comparing traces.
struct Readback {
  proto::Header header;
  std::vector<Event> events;
  std::vector<std::string> files;  // of the DebugAlloc events, in order
  std::map<uint64_t, std::string> thread_names;
};

Readback Read(const std::string& path) {
  Readback r;
  std::unique_ptr<EventSource> source;
  Status s = OpenTrace(path, &source);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return r;
  r.header = source->header();
  Event e;
  while (source->Next(&e)) {
    if (e.op == Op::kHostDebugAlloc) r.files.emplace_back(source->String(e.file));
    e.file = 0;  // ids may differ between writers; the strings must not
    r.events.push_back(e);
  }
  EXPECT_TRUE(source->status().ok()) << source->status().message();
  if (const proto::Footer* f = source->footer()) {
    for (const auto& t : f->threads()) {
      if (!t.name().empty()) r.thread_names[t.thread_id()] = t.name();
    }
  }
  return r;
}

std::vector<Event> Events() { return testing::MakeEvents(testing::Mix::kEveryOp, 5, 400); }

// The trace every test writes: non-UTF-8 bytes in every text field, in chunks of 50 events.
void WriteWithTraceWriter(const std::string& path) {
  proto::Header h = testing::TestHeader();
  h.add_command_line(kArg);
  (*h.mutable_metadata())["cwd"] = kCwd;
  std::unique_ptr<TraceWriter> writer;
  ASSERT_TRUE(TraceWriter::Create(path, h, WriterOptions{.events_per_chunk = 50}, &writer).ok());
  size_t n = 0;
  for (Event e : Events()) {
    if (e.op == Op::kHostDebugAlloc) e.file = writer->InternString(kFiles[n++ % kFiles.size()]);
    ASSERT_TRUE(writer->Append(e).ok());
  }
  proto::Footer extra;
  proto::ThreadInfo* t = extra.add_threads();
  t->set_thread_id(Events()[0].thread);
  t->set_name(kThreadName);
  ASSERT_TRUE(writer->Finish(extra).ok());
}

void ExpectEveryByteKept(const Readback& r) {
  ASSERT_EQ(r.header.command_line_size(), 2);
  EXPECT_EQ(r.header.command_line(1), kArg);
  EXPECT_EQ(r.header.metadata().at("cwd"), kCwd);
  EXPECT_EQ(r.header.format_minor(), kFormatMinor);
  std::vector<std::string> want_files;
  std::vector<Event> want_events = Events();
  for (Event& e : want_events) {
    if (e.op == Op::kHostDebugAlloc) want_files.push_back(kFiles[want_files.size() % 3]);
    e.file = 0;
  }
  EXPECT_EQ(r.events, want_events);
  EXPECT_EQ(r.files, want_files);
  ASSERT_GE(r.files.size(), 3u);
  EXPECT_EQ(r.thread_names.at(Events()[0].thread), kThreadName);
}

TEST(ByteFieldsTest, TraceWriterAndReaderKeepEveryByte) {
  testing::TempDir dir;
  WriteWithTraceWriter(dir.Path("t.pb"));
  ExpectEveryByteKept(Read(dir.Path("t.pb")));
}

TEST(ByteFieldsTest, PortableWriterKeepsEveryByte) {
  testing::TempDir dir;
  portable::Header h;
  h.platform = proto::PLATFORM_WINDOWS;
  h.command_line = {"test", kArg};
  h.metadata = {{"cwd", kCwd}, {"purpose", "unit test"}};
  std::unique_ptr<portable::PortableTraceWriter> writer;
  ASSERT_TRUE(portable::PortableTraceWriter::Create(dir.Path("p.pb"), h, 50, &writer).ok());
  size_t n = 0;
  for (Event e : Events()) {
    if (e.op == Op::kHostDebugAlloc) e.file = writer->InternString(kFiles[n++ % kFiles.size()]);
    ASSERT_TRUE(writer->Append(e).ok());
  }
  portable::FooterExtra extra;
  extra.thread_names[Events()[0].thread] = kThreadName;
  ASSERT_TRUE(writer->Finish(extra).ok());
  ExpectEveryByteKept(Read(dir.Path("p.pb")));
}

TEST(ByteFieldsTest, TextFormIsAsciiAndDumpEncodeIsByteIdentical) {
  testing::TempDir dir;
  const std::string binary = dir.Path("t.pb");
  WriteWithTraceWriter(binary);
  testing::CliResult dump = testing::RunVmreplay("dump " + binary + " -o " + dir.Path("t.txt"));
  ASSERT_EQ(dump.code, 0) << dump.out;
  const std::string text = testing::ReadFile(dir.Path("t.txt"));
  for (unsigned char c : text) ASSERT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << int{c};
  EXPECT_NE(text.find(R"(command_line: "\xff\xfe")"), std::string::npos) << text.substr(0, 600);
  EXPECT_NE(text.find(R"(value: "/home/\xe9t\xe9")"), std::string::npos);
  EXPECT_NE(text.find(R"(file="nul\x00\x01\"q\"\\\n")"), std::string::npos);
  EXPECT_NE(text.find(R"(name: "w\xf6rker\xc0")"), std::string::npos);

  testing::CliResult encode = testing::RunVmreplay("encode " + dir.Path("t.txt") + " -o " +
                                                   dir.Path("again.pb") + " --chunk-events 50");
  ASSERT_EQ(encode.code, 0) << encode.out;
  EXPECT_EQ(testing::ReadFile(dir.Path("again.pb")), testing::ReadFile(binary));
  ASSERT_EQ(
      testing::RunVmreplay("dump " + dir.Path("again.pb") + " -o " + dir.Path("again.txt")).code,
      0);
  EXPECT_EQ(testing::ReadFile(dir.Path("again.txt")), text);
}

TEST(ByteFieldsTest, HandWrittenTextWithEscapesEncodesToTheBytes) {
  testing::TempDir dir;
  // Protobuf's own escapes (octal) are accepted in the header; dump writes \xHH.
  testing::WriteFile(dir.Path("h.txt"),
                     "header { format_major: 1 command_line: \"\\377\\xfe\" "
                     "metadata { key: \"k\" value: \"\\xe9\" } }\n"
                     "HostDebugAlloc thread=1 ts=2 lat=3 size=8 level=0 heap=1 "
                     "file=\"a\\x80\\xFF\" line=7 -> result=0x10 hresult=0x0\n"
                     "footer { event_count: 1 threads { thread_id: 1 name: \"\\xc0\" } }\n");
  ASSERT_EQ(testing::RunVmreplay("encode " + dir.Path("h.txt") + " -o " + dir.Path("h.pb")).code,
            0);
  Readback r = Read(dir.Path("h.pb"));
  ASSERT_EQ(r.header.command_line_size(), 1);
  EXPECT_EQ(r.header.command_line(0), "\xff\xfe");
  EXPECT_EQ(r.header.metadata().at("k"), "\xe9");
  EXPECT_EQ(r.files, std::vector<std::string>{"a\x80\xff"});
  EXPECT_EQ(r.thread_names.at(1), "\xc0");
  testing::CliResult dump = testing::RunVmreplay("dump " + dir.Path("h.pb"));
  EXPECT_NE(dump.out.find(R"(command_line: "\xff\xfe")"), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find(R"(file="a\x80\xff")"), std::string::npos) << dump.out;
}

TEST(ByteFieldsTest, EveryWriterRefusesAMetadataKeyThatIsNotUtf8) {
  testing::TempDir dir;
  proto::Header h = testing::TestHeader();
  (*h.mutable_metadata())["bad\xff"] = "v";
  std::unique_ptr<TraceWriter> writer;
  Status s = TraceWriter::Create(dir.Path("w.pb"), h, WriterOptions(), &writer);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(R"(metadata key "bad\xff" is not UTF-8)"), std::string::npos)
      << s.message();

  portable::Header p;
  p.metadata = {{"bad\xff", "v"}};
  std::unique_ptr<portable::PortableTraceWriter> pw;
  s = portable::PortableTraceWriter::Create(dir.Path("p.pb"), p, 0, &pw);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is not UTF-8"), std::string::npos) << s.message();

  proto::Header parsed;
  std::string error;
  EXPECT_FALSE(
      ParseHeaderLine(R"(header { metadata { key: "\xff" value: "" } })", &parsed, &error));
  EXPECT_NE(error.find("is not UTF-8"), std::string::npos) << error;
}

// A header whose metadata key is not UTF-8 (only a crafted file has one) fails to open with
// one line, and nothing else on stderr (libprotobuf logs such a parse failure itself).
TEST(ByteFieldsTest, HeaderWithANonUtf8KeyFailsWithOneLine) {
  testing::TempDir dir;
  const std::string entry = std::string("\x0a\x01\xff", 3);
  const std::string header =
      "\x08\x01\x6a" + std::string(1, static_cast<char>(entry.size())) + entry;
  std::string bytes(kFileMagic, sizeof kFileMagic);
  AppendFrame(FrameKind::kHeader, header, &bytes);
  testing::WriteFile(dir.Path("k.pb"), bytes);
  ::testing::internal::CaptureStderr();
  std::unique_ptr<EventSource> source;
  Status s = OpenTrace(dir.Path("k.pb"), &source);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            dir.Path("k.pb") + ": header (byte offset 8): header message does not parse");
}

// IsValidUtf8 must agree with protobuf's parser, or a key it lets through would make a header
// no reader can parse.
TEST(ByteFieldsTest, Utf8CheckAgreesWithProtobufOnMapKeys) {
  const std::vector<std::string> keys = {"",
                                         "ascii",
                                         "caf\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80",
                                         "\xf4\x8f\xbf\xbf",
                                         "\xc0\x80",          // overlong NUL
                                         "\xe0\x80\xaf",      // overlong
                                         "\xed\xa0\x80",      // surrogate
                                         "\xf4\x90\x80\x80",  // past U+10FFFF
                                         "\xf5\x80\x80\x80",
                                         "\xff",
                                         "\x80",
                                         "\xc3",
                                         "\xe2\x82",
                                         "a\xc3(",
                                         "\xef\xbf\xbf"};
  for (const std::string& key : keys) {
    // Header.metadata entry (field 13), key = 1, value = 2 (empty), built by hand.
    std::string entry = "\x0a" + std::string(1, static_cast<char>(key.size())) + key;
    std::string wire = "\x6a" + std::string(1, static_cast<char>(entry.size())) + entry;
    proto::Header h;
    EXPECT_EQ(h.ParseFromString(wire), IsValidUtf8(key)) << testing::Hex(key);
  }
}

// Runs argv (no shell: the argument bytes reach the program as they are); the exit code.
int Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The user's reproducer: vmrecord -o x.pb -- /bin/true $'\xff\xfe'.
TEST(ByteFieldsTest, VmrecordTraceOfNonUtf8ArgvReadsBack) {
  const std::string vmrecord = std::string(VMREPLAY_BINARY_DIR) + "/recorder/linux/vmrecord";
  if (access(vmrecord.c_str(), X_OK) != 0) GTEST_SKIP() << vmrecord << " is not built";
  testing::TempDir dir;
  const std::string trace = dir.Path("x.pb");
  ASSERT_EQ(Spawn({vmrecord, "-o", trace, "--", "/bin/true", kArg}), 0);
  Readback r = Read(trace);
  ASSERT_EQ(r.header.command_line_size(), 2);
  EXPECT_EQ(r.header.command_line(0), "/bin/true");
  EXPECT_EQ(r.header.command_line(1), kArg);
  testing::CliResult check = testing::RunVmreplay("check " + trace);
  EXPECT_EQ(check.code, 0) << check.out;
}

}  // namespace
}  // namespace vmreplay
