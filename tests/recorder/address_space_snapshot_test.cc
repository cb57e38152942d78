// The address-space snapshot (Header.initial_mappings): vmrecord writes the mappings a process
// had before its first recorded call, and the sim platform places them, so that a recorded
// mremap next to a mapping made before recording began replays exactly (without them, sim grows the
// mapping in place where the neighbour is, and diverges).
#include <gtest/gtest.h>

#include <climits>
#include <cstdlib>
#include <memory>

#include "proto/trace_writer.h"
#include "tests/recorder/recorder_test_util.h"

namespace vmreplay::recorder {
namespace {

using namespace rectest;  // NOLINT: the helpers

class AddressSpaceSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("snapshot_test");
    trace_ = dir_ + "/neighbour.pb";
    ASSERT_EQ(RunCommand({VMRECORD_BIN, "-o", trace_, "--", WORKLOAD_BIN, "neighbour"}, {},
                         dir_ + "/stdout", dir_ + "/stderr"),
              0)
        << ReadFile(dir_ + "/stderr");
  }
  // Runs `vmreplay TRACE --backend=sim --json` and returns the "divergences" figure (-1 when
  // it cannot be found).
  long Divergences(const std::string& trace) {
    const std::string json = dir_ + "/replay.json";
    EXPECT_EQ(RunCommand({VMREPLAY_BIN, trace, "--backend=sim", "--latency=off", "--json"}, {},
                         json, dir_ + "/replay.stderr"),
              0)
        << ReadFile(dir_ + "/replay.stderr");
    const std::string out = ReadFile(json);
    const size_t at = out.find("\"divergences\":");
    return at == std::string::npos ? -1 : std::strtol(out.c_str() + at + 14, nullptr, 10);
  }
  std::string dir_, trace_;
};

TEST_F(AddressSpaceSnapshotTest, HeaderHoldsTheMappingsInAddressOrder) {
  const TraceContents t = ReadTrace(trace_);
  ASSERT_TRUE(t.ok) << t.error;
  ASSERT_GT(t.header.initial_mappings_size(), 5);
  char workload[PATH_MAX];
  ASSERT_NE(realpath(WORKLOAD_BIN, workload), nullptr);
  bool executable = false, libc = false, stack = false, ring = false;
  uint64_t previous_end = 0;
  for (const proto::Mapping& m : t.header.initial_mappings()) {
    EXPECT_GE(m.start(), previous_end) << "overlapping or out of order at " << m.start();
    EXPECT_GT(m.size(), 0u);
    EXPECT_EQ(m.size() % t.header.page_size(), 0u);
    previous_end = m.start() + m.size();
    // The recorder's rings are the one mapping it adds; they are recorded as they are.
    if (m.path().starts_with("/dev/shm/vmrecord.")) ring = m.shared() && (m.protect() & 3) == 3;
    if (m.path() == workload && (m.protect() & 4) != 0) executable = true;
    if (m.path().find("/libc.so") != std::string::npos && (m.protect() & 4) != 0) {
      libc = true;
      EXPECT_NE(m.inode(), 0u);
      EXPECT_FALSE(m.shared());
    }
    if (m.path() == "[stack]") stack = (m.protect() & 3) == 3 && m.inode() == 0;
  }
  EXPECT_TRUE(executable) << "the program's own text";
  EXPECT_TRUE(libc) << "libc's text";
  EXPECT_TRUE(stack) << "the main thread's stack";
  EXPECT_TRUE(ring) << "the recorder's ring segment";
}

TEST_F(AddressSpaceSnapshotTest, MremapNextToAnEarlierMappingReplaysExactlyOnlyWithTheSnapshot) {
  EXPECT_EQ(Divergences(trace_), 0);

  // The same trace without its snapshot: the sim grows the mapping in place over its neighbour.
  TraceContents t = ReadTrace(trace_);
  ASSERT_TRUE(t.ok) << t.error;
  t.header.clear_initial_mappings();
  const std::string bare = dir_ + "/bare.pb";
  std::unique_ptr<TraceWriter> writer;
  ASSERT_TRUE(TraceWriter::Create(bare, t.header, {}, &writer).ok());
  for (const Event& e : t.events) ASSERT_TRUE(writer->Append(e).ok());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_GE(Divergences(bare), 1);
}

}  // namespace
}  // namespace vmreplay::recorder
