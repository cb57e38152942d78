#include <gtest/gtest.h>

#include <map>

#include "proto/binary_trace_reader.h"
#include "proto/event_source.h"
#include "proto/frame.h"
#include "proto/portable/column_encoder.h"
#include "proto/trace_writer.h"
#include "tests/proto/trace_test_util.h"
#include "tests/support/event_mix.h"

namespace vmreplay {
namespace {

using testing::MakeEvents;
using testing::Mix;

TEST(TraceWriterReaderTest, RoundTripsAcrossManyChunks) {
  testing::TempDir dir;
  const std::string path = dir.Path("t.pb");
  std::vector<Event> events = MakeEvents(Mix::kClrHost, 1, 10000);
  std::vector<Event> linux_events = MakeEvents(Mix::kLinux, 2, 10000);
  events.insert(events.end(), linux_events.begin(), linux_events.end());
  ASSERT_TRUE(testing::WriteTrace(path, events, WriterOptions{.events_per_chunk = 777}).ok());

  std::vector<Event> read;
  proto::Header header;
  Status s = testing::ReadTrace(path, &read, &header);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(read, events);
  EXPECT_EQ(header.format_major(), 1u);
  EXPECT_EQ(header.page_size(), 4096u);
  EXPECT_EQ(header.metadata().at("purpose"), "unit test");
}

// The reader serves frames from a window read ahead (BinaryTraceReader::kReadWindow): frames
// that straddle its end, and a file several windows long, must read back exactly.
TEST(TraceWriterReaderTest, RoundTripsAFileLongerThanTheReadWindow) {
  testing::TempDir dir;
  const std::string path = dir.Path("t.pb");
  const std::vector<Event> events = MakeEvents(Mix::kEveryOp, 3, 150000);
  ASSERT_TRUE(
      testing::WriteTrace(path, events, WriterOptions{.events_per_chunk = 997, .compress = false})
          .ok());
  ASSERT_GT(testing::ReadFile(path).size(), 3 * BinaryTraceReader::kReadWindow);

  std::vector<Event> read;
  Status s = testing::ReadTrace(path, &read);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(read, events);
}

TEST(TraceWriterReaderTest, FooterCountsEventsChunksAndThreads) {
  testing::TempDir dir;
  const std::string path = dir.Path("t.pb");
  std::vector<Event> events = MakeEvents(Mix::kClrHost, 5, 2500);
  ASSERT_TRUE(testing::WriteTrace(path, events, WriterOptions{.events_per_chunk = 1000}).ok());
  std::unique_ptr<BinaryTraceReader> reader;
  ASSERT_TRUE(BinaryTraceReader::Open(path, ReaderOptions(), &reader).ok());
  uint64_t n = 0;
  while (const std::vector<Event>* chunk = reader->NextChunk()) n += chunk->size();
  ASSERT_TRUE(reader->status().ok()) << reader->status().message();
  EXPECT_EQ(n, 2500u);
  EXPECT_EQ(reader->chunks_read(), 3u);
  ASSERT_NE(reader->footer(), nullptr);
  EXPECT_TRUE(reader->complete());
  EXPECT_EQ(reader->footer()->event_count(), 2500u);
  EXPECT_EQ(reader->footer()->chunk_count(), 3u);
  uint64_t per_thread = 0;
  for (const auto& t : reader->footer()->threads()) per_thread += t.event_count();
  EXPECT_EQ(per_thread, 2500u);
}

// Columns encoded by the caller land between the appended events around them, in order, and
// count in the footer like appended events.
TEST(TraceWriterReaderTest, AppendColumnsKeepsOrderAndCounts) {
  testing::TempDir dir;
  const std::string path = dir.Path("t.pb");
  const std::vector<Event> events = MakeEvents(Mix::kLinux, 9, 300);
  std::unique_ptr<TraceWriter> writer;
  ASSERT_TRUE(TraceWriter::Create(path, testing::TestHeader(), WriterOptions{}, &writer).ok());
  for (size_t i = 0; i < 100; ++i) ASSERT_TRUE(writer->Append(events[i]).ok());
  const std::span<const Event> run(events.data() + 100, 150);
  ColumnEncoder encoder;
  std::string columns;
  encoder.Encode(run, 0, {}, &columns);
  std::map<uint64_t, uint64_t> per_thread;
  for (const Event& e : run) ++per_thread[e.thread];
  std::vector<TraceWriter::ThreadEvents> threads;
  for (const auto& [thread, n] : per_thread) threads.push_back({thread, n});
  ASSERT_TRUE(writer->AppendColumns(columns, 150, threads).ok());
  for (size_t i = 250; i < events.size(); ++i) ASSERT_TRUE(writer->Append(events[i]).ok());
  ASSERT_TRUE(writer->Finish().ok());

  std::vector<Event> read;
  proto::Header header;
  const Status s = testing::ReadTrace(path, &read, &header);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(read, events);
  std::unique_ptr<BinaryTraceReader> reader;
  ASSERT_TRUE(BinaryTraceReader::Open(path, ReaderOptions(), &reader).ok());
  while (reader->NextChunk() != nullptr) {
  }
  ASSERT_NE(reader->footer(), nullptr);
  EXPECT_EQ(reader->footer()->event_count(), events.size());
  EXPECT_EQ(reader->chunks_read(), 3u);
  std::map<uint64_t, uint64_t> expected_threads;
  for (const Event& e : events) ++expected_threads[e.thread];
  std::map<uint64_t, uint64_t> footer_threads;
  for (const auto& t : reader->footer()->threads()) footer_threads[t.thread_id()] = t.event_count();
  EXPECT_EQ(footer_threads, expected_threads);
}

TEST(TraceWriterReaderTest, StringsDefinedInOneChunkResolveInLaterChunks) {
  testing::TempDir dir;
  const std::string path = dir.Path("t.pb");
  std::unique_ptr<TraceWriter> writer;
  ASSERT_TRUE(TraceWriter::Create(path, testing::TestHeader(), WriterOptions{.events_per_chunk = 2},
                                  &writer)
                  .ok());
  std::vector<std::string> files = {"gc.cpp", "jit.cpp", "gc.cpp", "loader.cpp", "jit.cpp"};
  for (size_t i = 0; i < files.size(); ++i) {
    Event e;
    e.op = Op::kHostDebugAlloc;
    e.heap = 1;
    e.size = 32;
    e.line = static_cast<int32_t>(i);
    e.file = writer->InternString(files[i]);
    e.result = 0x1000 + i * 64;
    ASSERT_TRUE(writer->Append(e).ok());
  }
  ASSERT_TRUE(writer->Finish().ok());
  std::unique_ptr<EventSource> source;
  ASSERT_TRUE(OpenTrace(path, &source).ok());
  Event e;
  size_t i = 0;
  while (source->Next(&e)) {
    ASSERT_LT(i, files.size());
    EXPECT_EQ(source->String(e.file), files[i]) << i;
    ++i;
  }
  EXPECT_TRUE(source->status().ok()) << source->status().message();
  EXPECT_EQ(i, files.size());
}

TEST(TraceWriterReaderTest, EmptyTraceIsValid) {
  testing::TempDir dir;
  const std::string path = dir.Path("empty.pb");
  ASSERT_TRUE(testing::WriteTrace(path, {}).ok());
  std::vector<Event> read;
  Status s = testing::ReadTrace(path, &read);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(read.empty());
}

TEST(TraceWriterReaderTest, RealisticMixIsCompact) {
  testing::TempDir dir;
  const std::string path = dir.Path("t.pb");
  std::vector<Event> events = MakeEvents(Mix::kClrHost, 9, 100000);
  ASSERT_TRUE(testing::WriteTrace(path, events).ok());
  const double bytes_per_event =
      static_cast<double>(testing::ReadFile(path).size()) / static_cast<double>(events.size());
  // The in-memory Event is ~190 bytes; packed columns + zstd must shrink it by > 10x.
  EXPECT_LT(bytes_per_event, 19.0);
}

TEST(TraceWriterReaderTest, RejectsNewerMajorVersion) {
  testing::TempDir dir;
  const std::string path = dir.Path("v2.pb");
  // A file as a future writer would make it: a valid frame holding a version 2 header.
  proto::Header h = testing::TestHeader();
  h.set_format_major(2);
  std::string bytes(kFileMagic, sizeof kFileMagic);
  AppendFrame(FrameKind::kHeader, h.SerializeAsString(), &bytes);
  testing::WriteFile(path, bytes);
  std::unique_ptr<EventSource> source;
  Status s = OpenTrace(path, &source);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("format version 2.0 is not supported"), std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace vmreplay
