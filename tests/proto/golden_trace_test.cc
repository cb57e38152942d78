// Bundled traces written by earlier builds (format 1.0) stay readable and round-trip: dump ->
// encode reproduces them byte for byte but for the header's minor version, which becomes this
// writer's.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "proto/event_source.h"
#include "proto/frame.h"
#include "proto/text_format.h"
#include "proto/trace_writer.h"
#include "tests/proto/trace_test_util.h"

namespace vmreplay {
namespace {

std::string SourceDir() { return VMREPLAY_SOURCE_DIR; }

TEST(GoldenTraceTest, BundledBinaryTraceMatchesItsTextSource) {
  std::vector<Event> from_binary, from_text;
  proto::Header binary_header, text_header;
  Status s = testing::ReadTrace(SourceDir() + "/traces/wine/random_seed1.pb", &from_binary,
                                &binary_header);
  ASSERT_TRUE(s.ok()) << s.message();
  s = testing::ReadTrace(SourceDir() + "/traces/wine/random_seed1.txt", &from_text, &text_header);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(from_binary.size(), 3086u);
  EXPECT_EQ(from_binary, from_text);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(binary_header, text_header));
}

TEST(GoldenTraceTest, DumpThenEncodeReproducesTheBundledFileButForTheMinorVersion) {
  const std::string original = SourceDir() + "/traces/wine/random_seed1.pb";
  std::unique_ptr<EventSource> source;
  ASSERT_TRUE(OpenTrace(original, &source).ok());
  testing::TempDir dir;
  std::string text = FormatHeaderLine(source->header()) + "\n";
  Event e;
  while (source->Next(&e)) {
    AppendEventLine(
        e, [&](uint32_t id) { return source->String(id); }, &text);
    text += "\n";
  }
  ASSERT_TRUE(source->status().ok());
  ASSERT_NE(source->footer(), nullptr);
  text += FormatFooterLine(*source->footer()) + "\n";
  testing::WriteFile(dir.Path("t.txt"), text);

  std::unique_ptr<EventSource> text_source;
  ASSERT_TRUE(OpenTrace(dir.Path("t.txt"), &text_source).ok());
  std::unique_ptr<TraceWriter> writer;
  ASSERT_TRUE(
      TraceWriter::Create(dir.Path("t.pb"), text_source->header(), WriterOptions(), &writer).ok());
  while (text_source->Next(&e)) ASSERT_TRUE(writer->Append(e).ok());
  ASSERT_TRUE(text_source->status().ok()) << text_source->status().message();
  ASSERT_TRUE(writer->Finish(*text_source->footer()).ok());
  const std::string got = testing::ReadFile(dir.Path("t.pb"));
  const std::string want = testing::ReadFile(original);
  // Chunks and footer byte for byte; the header differs in format_minor alone.
  const size_t got_chunks = testing::FrameOffsets(got)[1];
  const size_t want_chunks = testing::FrameOffsets(want)[1];
  EXPECT_EQ(got.substr(got_chunks), want.substr(want_chunks));
  proto::Header got_header, want_header;
  ASSERT_TRUE(got_header.ParseFromString(got.substr(28, got_chunks - 28)));
  ASSERT_TRUE(want_header.ParseFromString(want.substr(28, want_chunks - 28)));
  EXPECT_EQ(want_header.format_minor(), 0u);
  EXPECT_EQ(got_header.format_minor(), kFormatMinor);
  got_header.set_format_minor(0);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got_header, want_header));
}

// A 1.0 trace with every kind of string (command line, metadata, DebugAlloc file names across
// chunks, thread names), written by the build before the fields became bytes.
TEST(GoldenTraceTest, Format10TraceWithStringsReadsExactly) {
  std::unique_ptr<EventSource> source;
  Status s = OpenTrace(SourceDir() + "/tests/proto/data/format_1_0.pb", &source);
  ASSERT_TRUE(s.ok()) << s.message();
  const proto::Header& h = source->header();
  EXPECT_EQ(h.format_major(), 1u);
  EXPECT_EQ(h.format_minor(), 0u);
  ASSERT_EQ(h.command_line_size(), 3);
  EXPECT_EQ(h.command_line(2), "--name=caf\xc3\xa9");
  EXPECT_EQ(h.metadata().at("cwd"), "C:\\traces\\\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(h.metadata().at("recorder"), "hand-written 1.0 trace");
  std::vector<std::string> files;
  std::vector<uint64_t> sizes;
  Event e;
  while (source->Next(&e)) {
    sizes.push_back(e.size);
    if (e.op == Op::kHostDebugAlloc) files.emplace_back(source->String(e.file));
  }
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  EXPECT_EQ(sizes, (std::vector<uint64_t>{0, 64, 128, 65536, 16, 0}));
  EXPECT_EQ(files, (std::vector<std::string>{"gc.cpp", "jit\\caf\xc3\xa9.cpp", "gc.cpp"}));
  ASSERT_NE(source->footer(), nullptr);
  ASSERT_EQ(source->footer()->threads_size(), 2);
  EXPECT_EQ(source->footer()->threads(1).name(), "gc w\xc3\xb6rker");
}

}  // namespace
}  // namespace vmreplay
