// Calls the lift cannot classify: each is counted and listed with its event index, none is
// lifted, and the lifted trace still replays on sim without divergence.
#include <gtest/gtest.h>

#include "replayer/engine/replay_engine.h"
#include "tests/lift/lift_test_util.h"

namespace vmreplay::lift {
namespace {

using testing::LiftText;

std::vector<uint64_t> IndicesOf(const LiftStats& s, Unclassified reason, Op op) {
  const auto it = s.unclassified_calls().find({reason, op});
  return it == s.unclassified_calls().end() ? std::vector<uint64_t>{} : it->second.first_indices;
}

TEST(UnclassifiedTest, EachReasonIsListedWithItsEventIndex) {
  const auto l = LiftText(
      "unclassified",
      // 0: memory the recording never saw mapped (libcoreclr's image, mapped by ld.so).
      "mprotect thread=1 ts=10 lat=1 addr=0x7f9000000000 size=4096 protect=0x3 -> error=0\n"
      // 1-2: a reservation; 3: part of it unmapped (Win32 releases whole reservations).
      "mmap thread=1 ts=20 lat=1 addr=0x0 size=1048576 flags=0x22 protect=0x0 fd=-1 offset=0 -> "
      "result=0x7f4000000000 error=0\n"
      "madvise thread=1 ts=30 lat=1 addr=0x7f4000000000 size=1048576 flags=0x10 -> error=0\n"
      "munmap thread=1 ts=40 lat=1 addr=0x7f4000080000 size=524288 -> error=0\n"
      // 4-5: a reservation in the hole, which the lifted one still covers: Win32 refuses it.
      "mmap thread=1 ts=50 lat=1 addr=0x0 size=524288 flags=0x22 protect=0x0 fd=-1 offset=0 -> "
      "result=0x7f4000080000 error=0\n"
      "madvise thread=1 ts=60 lat=1 addr=0x7f4000080000 size=524288 flags=0x10 -> error=0\n"
      // 6: and a call on that unlifted mapping.
      "munmap thread=1 ts=70 lat=1 addr=0x7f4000080000 size=524288 -> error=0\n"
      // 7: a reservation away from its hint; 8: the PAL unmapping it.
      "mmap thread=1 ts=80 lat=1 addr=0x7f5000000000 size=65536 flags=0x22 protect=0x0 fd=-1 "
      "offset=0 -> result=0x7f6000000000 error=0\n"
      "munmap thread=1 ts=90 lat=1 addr=0x7f6000000000 size=65536 -> error=0\n"
      // 9: a failed mmap; 10: mremap.
      "mmap thread=1 ts=100 lat=1 addr=0x0 size=65536 flags=0x22 protect=0x0 fd=-1 offset=0 -> "
      "result=0xffffffffffffffff error=12\n"
      "mremap thread=1 ts=110 lat=1 addr=0x7f7000000000 size=4096 new_size=8192 flags=0x1 "
      "new_addr=0x0 -> result=0x7f7000100000 error=0\n"
      // 11: PROT_NONE over reserved, uncommitted pages; 12: over the reservation and beyond.
      "mprotect thread=1 ts=120 lat=1 addr=0x7f4000000000 size=4096 protect=0x0 -> error=0\n"
      "mprotect thread=1 ts=130 lat=1 addr=0x7f4000070000 size=262144 protect=0x3 -> error=0\n"
      // 13: MAP_FIXED over memory nobody mapped.
      "mmap thread=1 ts=140 lat=1 addr=0x7f8000000000 size=4096 flags=0x32 protect=0x0 fd=-1 "
      "offset=0 -> result=0x7f8000000000 error=0\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  const LiftStats& s = l.result.stats;
  using U = Unclassified;
  EXPECT_EQ(IndicesOf(s, U::kUnknownMemory, Op::kMprotect), (std::vector<uint64_t>{0}));
  EXPECT_EQ(IndicesOf(s, U::kPartialRelease, Op::kMunmap), (std::vector<uint64_t>{3}));
  EXPECT_EQ(IndicesOf(s, U::kRefusedByWin32Rules, Op::kMmap), (std::vector<uint64_t>{4}));
  EXPECT_EQ(IndicesOf(s, U::kUnliftedMapping, Op::kMunmap), (std::vector<uint64_t>{6, 8}));
  EXPECT_EQ(IndicesOf(s, U::kHintMissed, Op::kMmap), (std::vector<uint64_t>{7}));
  EXPECT_EQ(IndicesOf(s, U::kSyscallFailed, Op::kMmap), (std::vector<uint64_t>{9}));
  EXPECT_EQ(IndicesOf(s, U::kMremap, Op::kMremap), (std::vector<uint64_t>{10}));
  EXPECT_EQ(IndicesOf(s, U::kProtectUncommitted, Op::kMprotect), (std::vector<uint64_t>{11}));
  EXPECT_EQ(IndicesOf(s, U::kSpansMappings, Op::kMprotect), (std::vector<uint64_t>{12}));
  EXPECT_EQ(IndicesOf(s, U::kUnknownMemory, Op::kMmap), (std::vector<uint64_t>{13}));
  EXPECT_EQ(s.unclassified_total(), 11u);
  EXPECT_EQ(testing::CountedEvents(s), s.events_in());
  ASSERT_EQ(l.lines.size(), 1u);  // the one reservation that was lifted
  // Listed in the table and in the header.
  const std::string table = s.FormatTable();
  EXPECT_NE(table.find("partial-release            munmap            1  events 3"),
            std::string::npos)
      << table;
  EXPECT_EQ(l.header.metadata().at("lift.unclassified.unlifted-mapping.munmap"), "2 events 6,8");
  EXPECT_EQ(l.header.metadata().at("lift.unclassified_total"), "11");

  replay::ReplayOptions options;
  replay::ReplayMetrics m;
  ASSERT_TRUE(replay::ReplayTrace(l.path, options, &m).ok());
  EXPECT_EQ(m.divergences, 0u);
}

TEST(UnclassifiedTest, CodeViewRemapWithoutItsRelease) {
  const auto l = LiftText(
      "remap",
      "mmap thread=1 ts=100 lat=10 addr=0x7f2000000000 size=268435456 flags=0x22 protect=0x0 "
      "fd=-1 offset=0 -> result=0x7f2000000000 error=0\n"
      "madvise thread=1 ts=115 lat=5 addr=0x7f2000000000 size=268435456 flags=0x10 -> error=0\n"
      "mmap thread=1 ts=200 lat=10 addr=0x7f2000010000 size=65536 flags=0x11 protect=0x0 fd=8 "
      "offset=0 -> result=0x7f2000010000 error=0\n"
      "mmap thread=1 ts=300 lat=10 addr=0x7f2000010000 size=65536 flags=0x11 protect=0x3 fd=8 "
      "offset=0 -> result=0x7f2000010000 error=0\n"
      "mprotect thread=1 ts=400 lat=10 addr=0x7f2000010000 size=4096 protect=0x5 -> error=0\n");
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  EXPECT_EQ(IndicesOf(l.result.stats, Unclassified::kViewRemapWithoutRelease, Op::kMmap),
            (std::vector<uint64_t>{3}));
  EXPECT_EQ(l.result.stats.lifted(Lifted::kCommit), 1u);  // the view is still a reservation
}

TEST(UnclassifiedTest, BadInputIsOneLineNamingTheFile) {
  LiftResult r;
  const std::string missing = testing::TempPath("missing.pb");
  Status s = LiftClrTrace(missing, testing::TempPath("out.pb"), WriterOptions(), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(missing), std::string::npos) << s.message();

  const std::string windows = testing::TempPath("windows.txt");
  std::ofstream(windows) << "header { format_major: 1 platform: PLATFORM_WINDOWS }\n";
  s = LiftClrTrace(windows, testing::TempPath("out2.pb"), WriterOptions(), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not a Linux recording"), std::string::npos) << s.message();

  const std::string win32_event = testing::WriteText(
      "win32_event.txt",
      "malloc thread=1 ts=0 lat=1 size=8 -> result=0x1000 error=0\n"
      "VirtualFree thread=1 ts=1 lat=1 addr=0x10000 size=0 flags=0x8000 -> hresult=0x0 "
      "error=0\n");
  const std::string out = testing::TempPath("out3.pb");
  s = LiftClrTrace(win32_event, out, WriterOptions(), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("event 1: VirtualFree is not a Linux call"), std::string::npos)
      << s.message();
  EXPECT_FALSE(std::ifstream(out).good()) << "a failed lift leaves no output behind";
}

}  // namespace
}  // namespace vmreplay::lift
