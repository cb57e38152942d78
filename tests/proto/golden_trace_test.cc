// The bundled binary trace stays readable and round-trips exactly: a file written by an earlier
// build is read by this one, and dump -> encode reproduces it byte for byte.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "proto/event_source.h"
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

TEST(GoldenTraceTest, DumpThenEncodeReproducesTheBundledFileByteForByte) {
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
  EXPECT_EQ(testing::ReadFile(dir.Path("t.pb")), testing::ReadFile(original));
}

}  // namespace
}  // namespace vmreplay
