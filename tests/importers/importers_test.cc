// Tests of vmreplay_importers on the real samples checked in under traces/imported/, on
// malformed lines (one-line errors with the line number) and on garbage (no crash).
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "replayer/importers/importer.h"

namespace vmreplay::importers {
namespace {

class VectorSink : public EventSink {
 public:
  Status Append(const Event& e) override {
    events.push_back(e);
    return Status::Ok();
  }
  uint32_t InternString(std::string_view) override { return 1; }
  std::vector<Event> events;
};

std::string Sample(const std::string& name) {
  return std::string(VMREPLAY_SOURCE_DIR) + "/traces/imported/" + name;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

Status Parse(Format f, const std::string& text, VectorSink* sink, ImportStats* stats) {
  std::istringstream in(text);
  return ImportStream(f, in, "in.log", sink, stats);
}

std::map<Op, size_t> CountOps(const std::vector<Event>& events) {
  std::map<Op, size_t> m;
  for (const Event& e : events) ++m[e.op];
  return m;
}

TEST(MtraceImporterTest, RealSampleCounts) {
  const std::string path = Sample("mtrace_sample.log");
  size_t plus = 0, minus = 0, lt = 0, gt = 0;
  for (const std::string& l : Lines(path)) {
    // The operation is the word after "@ caller", or the first word.
    std::istringstream w(l);
    std::string a, b, c;
    w >> a >> b >> c;
    const std::string op = a == "@" ? c : a;
    plus += op == "+";
    minus += op == "-";
    lt += op == "<";
    gt += op == ">";
  }
  ASSERT_GT(plus, 0u);
  ASSERT_EQ(lt, gt);
  std::ifstream in(path);
  VectorSink sink;
  ImportStats stats;
  const Status s = ImportStream(Format::kMtrace, in, path, &sink, &stats);
  ASSERT_TRUE(s.ok()) << s.message();
  auto ops = CountOps(sink.events);
  EXPECT_EQ(ops[Op::kMalloc], plus);
  EXPECT_EQ(ops[Op::kFree], minus);
  EXPECT_EQ(ops[Op::kRealloc], gt);
  EXPECT_EQ(sink.events.size(), plus + minus + gt);
  // The sample's program: 64 mallocs + calloc + posix_memalign + 1 MiB + leak = 68 '+'.
  EXPECT_EQ(plus, 68u);
  for (const Event& e : sink.events) {
    if (e.op == Op::kRealloc) {
      EXPECT_NE(e.addr, 0u);
      EXPECT_NE(e.result, 0u);
    }
  }
}

TEST(MtraceImporterTest, MalformedLinesNameTheLine) {
  VectorSink sink;
  ImportStats stats;
  Status s = Parse(Format::kMtrace, "= Start\n@ ./a:[0x1] + 0x10 0x20\n? 0x1\n", &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:3: unknown operation '?' (expected =, +, -, <, >, !)");
  s = Parse(Format::kMtrace, "< 0x10\n- 0x20\n", &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:2: expected '>' (realloc result) after the '<' on line 1");
  s = Parse(Format::kMtrace, "+ 0x10 zz\n", &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:1: bad pointer or size in '+' line");
  s = Parse(Format::kMtrace, "+ 0x10 0x8\n< 0x10\n", &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:2: input ends after the '<' on line 2 without its '>'");
  s = Parse(Format::kMtrace, "+ (nil) 0x100\n! 0x10 0x20\n", &sink, &stats);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(sink.events.back().error, 12u);
}

TEST(StraceImporterTest, RealSamplesCounts) {
  for (const char* name : {"strace_sample.log", "strace_sample_tt.log"}) {
    SCOPED_TRACE(name);
    const std::string path = Sample(name);
    std::map<std::string, size_t> calls;
    size_t unfinished = 0, resumed = 0, enomem = 0;
    for (const std::string& l : Lines(path)) {
      if (l.find("<unfinished ...>") != std::string::npos) {
        ++unfinished;
        continue;  // counted when resumed
      }
      const size_t r = l.find("<... ");
      if (r != std::string::npos) {
        ++resumed;
        calls[l.substr(r + 5, l.find(' ', r + 5) - r - 5)]++;
      } else {
        for (const char* c : {"mmap(", "munmap(", "mremap(", "mprotect(", "madvise(", "brk("}) {
          const size_t at = l.find(c);
          if (at != std::string::npos && (at == 0 || l[at - 1] == ' ')) {
            calls[std::string(c, std::string(c).size() - 1)]++;
          }
        }
      }
      enomem += l.find("= -1 ENOMEM") != std::string::npos;
    }
    ASSERT_EQ(unfinished, resumed);
    ASSERT_GT(unfinished, 0u);
    std::ifstream in(path);
    VectorSink sink;
    ImportStats stats;
    const Status s = ImportStream(Format::kStrace, in, path, &sink, &stats);
    ASSERT_TRUE(s.ok()) << s.message();
    auto ops = CountOps(sink.events);
    EXPECT_EQ(ops[Op::kMmap], calls["mmap"]);
    EXPECT_EQ(ops[Op::kMunmap], calls["munmap"]);
    EXPECT_EQ(ops[Op::kMremap], calls["mremap"]);
    EXPECT_EQ(ops[Op::kMprotect], calls["mprotect"]);
    EXPECT_EQ(ops[Op::kMadvise], calls["madvise"]);
    size_t failures = 0, threads_nonzero = 0, timed = 0;
    for (const Event& e : sink.events) {
      failures += e.error == 12;
      threads_nonzero += e.thread != 0;
      timed += e.latency_ns != 0;
    }
    EXPECT_EQ(failures, enomem);
    EXPECT_EQ(threads_nonzero, sink.events.size());
    if (std::string(name) == "strace_sample_tt.log") {
      EXPECT_EQ(timed, sink.events.size());
    }
  }
}

TEST(StraceImporterTest, ParsesFlagsResultsAndErrors) {
  VectorSink sink;
  ImportStats stats;
  Status s = Parse(Format::kStrace,
                   "7 12:00:00.000100 mmap(NULL, 8192, PROT_READ|PROT_WRITE, "
                   "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000 <0.000020>\n"
                   "7 12:00:00.000200 madvise(0x7f0000000000, 4096, MADV_DONTNEED) = 0\n"
                   "7 12:00:00.000300 mprotect(0x1000, 4096, PROT_NONE) = -1 ENOMEM (Cannot "
                   "allocate memory) <0.000002>\n",
                   &sink, &stats);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_EQ(sink.events[0].flags, 0x22u);
  EXPECT_EQ(sink.events[0].protect, 0x3u);
  EXPECT_EQ(sink.events[0].result, 0x7f0000000000u);
  EXPECT_EQ(sink.events[0].latency_ns, 20000u);
  EXPECT_EQ(sink.events[1].flags, 4u);
  EXPECT_EQ(sink.events[1].timestamp_ns, 100000u);
  EXPECT_EQ(sink.events[2].error, 12u);

  s = Parse(Format::kStrace, "7 mmap(NULL, 10, PROT_BOGUS, MAP_PRIVATE, -1, 0) = 0x1000\n", &sink,
            &stats);
  EXPECT_EQ(s.message(), "in.log:1: bad argument in mmap call");
  s = Parse(Format::kStrace, "7 munmap(0x1000) = 0\n", &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:1: munmap wants 2 arguments, got 1");
  s = Parse(Format::kStrace, "7 <... mmap resumed>) = 0x1000\n", &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:1: 'mmap resumed' of pid 7 that has no unfinished call");
  s = Parse(Format::kStrace, "7 munmap(0x1000, 4096) = -1 EBOGUS (x)\n", &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:1: unknown errno name 'EBOGUS'");
  s = Parse(Format::kStrace, "7 hello\n", &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:1: expected 'NAME(ARGS) = RESULT'");
  // The fd is an int: 2^32 + 3 once became fd 3 without a word.
  s = Parse(Format::kStrace, "7 mmap(NULL, 10, PROT_READ, MAP_PRIVATE, 4294967299, 0) = 0x1000\n",
            &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:1: mmap fd 4294967299 is out of range");
}

TEST(RecordAllocsImporterTest, SamplesCounts) {
  for (const char* name : {"record_allocs_sample.txt", "record_allocs_sample_notime.txt"}) {
    SCOPED_TRACE(name);
    const std::string path = Sample(name);
    std::map<std::string, size_t> kinds;
    for (const std::string& l : Lines(path)) {
      std::istringstream w(l);
      std::string tid, op;
      w >> tid >> op;
      kinds[op]++;
    }
    std::ifstream in(path);
    VectorSink sink;
    ImportStats stats;
    const Status s = ImportStream(Format::kRecordAllocs, in, path, &sink, &stats);
    ASSERT_TRUE(s.ok()) << s.message();
    auto ops = CountOps(sink.events);
    EXPECT_EQ(ops[Op::kMalloc], kinds["malloc"]);
    EXPECT_EQ(ops[Op::kCalloc], kinds["calloc"]);
    EXPECT_EQ(ops[Op::kMemalign], kinds["memalign"]);
    EXPECT_EQ(ops[Op::kRealloc], kinds["realloc"]);
    EXPECT_EQ(ops[Op::kFree], kinds["free"]);
    EXPECT_EQ(stats.ignored, kinds["thread_done"]);
    EXPECT_GT(kinds["malloc"], 0u);
  }
}

TEST(RecordAllocsImporterTest, FieldsAndErrors) {
  VectorSink sink;
  ImportStats stats;
  Status s = Parse(Format::kRecordAllocs,
                   "186: realloc 0xb000 0xa000 40 1000 1300\n187: memalign 0xc000 4096 100 "
                   "2000 2100\n",
                   &sink, &stats);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(sink.events[0].addr, 0xa000u);
  EXPECT_EQ(sink.events[0].result, 0xb000u);
  EXPECT_EQ(sink.events[0].latency_ns, 300u);
  EXPECT_EQ(sink.events[1].alignment, 4096u);
  EXPECT_EQ(sink.events[1].timestamp_ns, 1000u);
  s = Parse(Format::kRecordAllocs, "186: malloc 0x10 20\n186: frob 0x10\n", &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:2: unknown operation 'frob'");
  s = Parse(Format::kRecordAllocs, "186: calloc 0x10 20\n", &sink, &stats);
  EXPECT_EQ(s.message(),
            "in.log:1: calloc wants 2 number(s) after the pointer, then optionally START_NS "
            "END_NS");
  s = Parse(Format::kRecordAllocs, "malloc 0x10 20\n", &sink, &stats);
  EXPECT_EQ(s.message(), "in.log:1: expected 'TID: OPERATION PTR ...'");
}

TEST(ImporterTest, GarbageAndTruncationNeverCrash) {
  std::string garbage;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    garbage.push_back(static_cast<char>(x & 0xff));
  }
  const std::string samples[] = {Sample("mtrace_sample.log"), Sample("strace_sample_tt.log"),
                                 Sample("record_allocs_sample.txt")};
  for (Format f : {Format::kMtrace, Format::kStrace, Format::kRecordAllocs}) {
    VectorSink sink;
    ImportStats stats;
    EXPECT_FALSE(Parse(f, garbage, &sink, &stats).ok());
    for (const std::string& path : samples) {
      std::ifstream in(path);
      const std::string text((std::istreambuf_iterator<char>(in)), {});
      // Every truncation point of a real sample: fine or one clean error, never a crash.
      for (size_t cut = 0; cut < text.size(); cut += 97) {
        VectorSink s2;
        ImportStats st2;
        const Status st = Parse(f, text.substr(0, cut), &s2, &st2);
        if (!st.ok()) {
          EXPECT_EQ(st.message().rfind("in.log:", 0), 0u) << st.message();
          EXPECT_EQ(st.message().find('\n'), std::string::npos);
        }
      }
    }
  }
  VectorSink sink;
  ImportStats stats;
  const Status long_line = Parse(Format::kStrace, std::string(2 << 20, 'a'), &sink, &stats);
  EXPECT_EQ(long_line.message(), "in.log:1: line longer than 1048576 bytes");
}

TEST(ImporterTest, ImportFileWritesTraceAndRemovesItOnError) {
  const std::string out = ::testing::TempDir() + "imported_test.pb";
  ImportStats stats;
  Status s = ImportFile(Format::kMtrace, Sample("mtrace_sample.log"), out, {"t"}, &stats);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(std::ifstream(out).good());
  s = ImportFile(Format::kStrace, Sample("mtrace_sample.log"), out, {"t"}, &stats);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("mtrace_sample.log:1: "), std::string::npos) << s.message();
  EXPECT_FALSE(std::ifstream(out).good());
  Format f;
  EXPECT_FALSE(ParseFormat("heaptrack", &f).ok());
}

}  // namespace
}  // namespace vmreplay::importers
