// proto/portable/portable_trace_writer: its output must be a trace the protobuf-based reader
// takes as complete and decodes to exactly the events, header and footer written. It must also
// be byte-identical to proto/trace_writer's CODEC_NONE output, so the two writers cannot drift.
#include "proto/portable/portable_trace_writer.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "proto/binary_trace_reader.h"
#include "proto/event_source.h"
#include "proto/trace_writer.h"
#include "tests/proto/trace_test_util.h"
#include "tests/support/event_mix.h"

namespace vmreplay {
namespace {

using testing::MakeEvents;
using testing::Mix;

portable::Header PortableHeader() {
  portable::Header h;
  h.platform = proto::PLATFORM_WINDOWS;
  h.page_size = 4096;
  h.allocation_granularity = 65536;
  h.min_user_address = 0x10000;
  h.max_user_address = 0x7ffffffeffff;
  h.physical_memory = 16ull << 30;
  h.commit_limit = 0;  // zero fields are absent on the wire
  h.source = proto::SOURCE_CLR_HOST;
  h.command_line = {"vmrecord-clr.exe", "-o", "app.pb", "", "App.exe"};
  h.start_time_unix_ns = 1700000000123456789ull;
  h.metadata = {{"zeta", "last"}, {"alpha", "first"}, {"empty", ""}, {"", "empty key"}};
  h.pointer_bits = 64;
  return h;
}

proto::Header ProtoHeader(const portable::Header& p) {
  proto::Header h;
  h.set_format_major(kFormatMajor);
  h.set_format_minor(kFormatMinor);
  h.set_platform(static_cast<proto::Platform>(p.platform));
  h.set_page_size(p.page_size);
  h.set_allocation_granularity(p.allocation_granularity);
  h.set_min_user_address(p.min_user_address);
  h.set_max_user_address(p.max_user_address);
  h.set_physical_memory(p.physical_memory);
  h.set_commit_limit(p.commit_limit);
  h.set_source(static_cast<proto::SourceKind>(p.source));
  for (const std::string& arg : p.command_line) h.add_command_line(arg);
  h.set_start_time_unix_ns(p.start_time_unix_ns);
  for (const auto& [k, v] : p.metadata) (*h.mutable_metadata())[k] = v;
  h.set_pointer_bits(p.pointer_bits);
  return h;
}

// Every operation with extreme values; DebugAlloc file ids refer to strings interned as the
// trace goes, so new strings appear in many chunks and old ones are referenced across chunks.
struct Workload {
  std::vector<Event> events;
  std::vector<std::pair<size_t, std::string>> strings;  // intern before event [first]
};

Workload MakeWorkload(size_t n) {
  Workload w;
  w.events = MakeEvents(Mix::kEveryOp, 7, n);
  uint32_t interned = 0;
  for (size_t i = 0; i < w.events.size(); ++i) {
    if (i % 50 == 0) {
      w.strings.emplace_back(i, "src/vm/file_" + std::to_string(interned) + ".cpp");
      ++interned;
    }
    if (w.events[i].op == Op::kHostDebugAlloc) {
      w.events[i].file = interned == 0 ? 0 : 1 + static_cast<uint32_t>(i % interned);
    }
  }
  return w;
}

template <typename Writer>
void Feed(Writer& writer, const Workload& w) {
  size_t next = 0;
  for (size_t i = 0; i < w.events.size(); ++i) {
    while (next < w.strings.size() && w.strings[next].first == i) {
      writer.InternString(w.strings[next++].second);
    }
    ASSERT_TRUE(writer.Append(w.events[i]).ok());
  }
}

TEST(PortableTraceWriterTest, LinuxReaderReadsBackEventsHeaderAndFooter) {
  testing::TempDir dir;
  const std::string path = dir.Path("portable.pb");
  const Workload w = MakeWorkload(20000);
  const portable::Header header = PortableHeader();
  std::unique_ptr<portable::PortableTraceWriter> writer;
  ASSERT_TRUE(portable::PortableTraceWriter::Create(path, header, 333, &writer).ok());
  Feed(*writer, w);
  portable::FooterExtra extra;
  extra.dropped_events = 3;
  extra.end_time_unix_ns = 1700000009000000000ull;
  extra.thread_names[w.events[0].thread] = "main";
  ASSERT_TRUE(writer->Finish(extra).ok());

  std::unique_ptr<EventSource> source;
  Status s = OpenTrace(path, &source);
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<Event> read;
  Event e;
  while (source->Next(&e)) read.push_back(e);
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  EXPECT_EQ(read, w.events);
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(source->header(), ProtoHeader(header)))
      << source->header().DebugString();
  EXPECT_EQ(source->header().metadata().at("alpha"), "first");
  EXPECT_EQ(source->String(1), "src/vm/file_0.cpp");
  EXPECT_EQ(source->String(static_cast<uint32_t>(w.strings.size())), w.strings.back().second);
  const proto::Footer* footer = source->footer();
  ASSERT_NE(footer, nullptr);
  EXPECT_EQ(footer->event_count(), w.events.size());
  EXPECT_EQ(footer->chunk_count(), (w.events.size() + 332) / 333);
  EXPECT_EQ(footer->dropped_events(), 3u);
  EXPECT_EQ(footer->end_time_unix_ns(), 1700000009000000000ull);
  uint64_t per_thread = 0;
  for (const auto& t : footer->threads()) per_thread += t.event_count();
  EXPECT_EQ(per_thread, w.events.size());

  std::unique_ptr<BinaryTraceReader> reader;
  ASSERT_TRUE(BinaryTraceReader::Open(path, ReaderOptions(), &reader).ok());
  while (reader->NextChunk() != nullptr) {
  }
  EXPECT_TRUE(reader->status().ok()) << reader->status().message();
  EXPECT_TRUE(reader->complete());
  EXPECT_TRUE(reader->damage().empty());
}

TEST(PortableTraceWriterTest, ByteIdenticalToProtobufWriterWithoutCompression) {
  testing::TempDir dir;
  const Workload w = MakeWorkload(5000);
  const portable::Header header = PortableHeader();
  std::unique_ptr<portable::PortableTraceWriter> portable_writer;
  ASSERT_TRUE(
      portable::PortableTraceWriter::Create(dir.Path("p.pb"), header, 1000, &portable_writer).ok());
  Feed(*portable_writer, w);
  portable::FooterExtra extra;
  extra.end_time_unix_ns = 42;
  extra.thread_names[w.events[1].thread] = "worker";
  ASSERT_TRUE(portable_writer->Finish(extra).ok());

  std::unique_ptr<TraceWriter> proto_writer;
  ASSERT_TRUE(TraceWriter::Create(dir.Path("l.pb"), ProtoHeader(header),
                                  WriterOptions{.events_per_chunk = 1000, .compress = false},
                                  &proto_writer)
                  .ok());
  Feed(*proto_writer, w);
  proto::Footer footer;
  footer.set_end_time_unix_ns(42);
  proto::ThreadInfo* t = footer.add_threads();
  t->set_thread_id(w.events[1].thread);
  t->set_name("worker");
  ASSERT_TRUE(proto_writer->Finish(footer).ok());

  const std::string a = testing::ReadFile(dir.Path("p.pb"));
  const std::string b = testing::ReadFile(dir.Path("l.pb"));
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a.size(), b.size());
  EXPECT_TRUE(a == b) << "portable and protobuf writers produced different bytes";
}

TEST(PortableTraceWriterTest, EmptyTraceIsComplete) {
  testing::TempDir dir;
  const std::string path = dir.Path("empty.pb");
  std::unique_ptr<portable::PortableTraceWriter> writer;
  ASSERT_TRUE(portable::PortableTraceWriter::Create(path, PortableHeader(), 0, &writer).ok());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_FALSE(writer->Append(Event{.op = Op::kHostFree}).ok());  // no Append after Finish
  std::unique_ptr<BinaryTraceReader> reader;
  ASSERT_TRUE(BinaryTraceReader::Open(path, ReaderOptions(), &reader).ok());
  Event e;
  EXPECT_FALSE(reader->Next(&e));
  EXPECT_TRUE(reader->status().ok()) << reader->status().message();
  EXPECT_TRUE(reader->complete());
  EXPECT_EQ(reader->footer()->event_count(), 0u);
}

TEST(PortableTraceWriterTest, RejectsInvalidOperation) {
  testing::TempDir dir;
  std::unique_ptr<portable::PortableTraceWriter> writer;
  ASSERT_TRUE(
      portable::PortableTraceWriter::Create(dir.Path("x.pb"), PortableHeader(), 0, &writer).ok());
  Event bad;
  bad.op = static_cast<Op>(kOpCount);
  EXPECT_FALSE(writer->Append(bad).ok());
  EXPECT_FALSE(portable::PortableTraceWriter::Create(dir.Path("no/such/dir/x.pb"), PortableHeader(),
                                                     0, &writer)
                   .ok());
}

}  // namespace
}  // namespace vmreplay
