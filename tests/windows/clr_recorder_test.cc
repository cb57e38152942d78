// End-to-end test of the Windows recorder: clr_driver.exe (recorder/windows built with
// mingw-w64) drives the recording IHostMemoryManager under Wine as the CLR would and writes
// trace.pb with the portable writer. The trace must read back complete with the driver's exact
// per-operation counts, HRESULTs that agree with the Win32 outcomes, and virtual-memory calls
// that the simulator (layout-faithful) replays without a single divergence.
//
// The trace checked into traces/windows/ goes through the same checks without Wine.
// Set VMREPLAY_UPDATE_WINDOWS_TRACES=1 to refresh it from a Wine run.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "proto/binary_trace_reader.h"
#include "proto/event_source.h"
#include "proto/trace_writer.h"
#include "tests/windows/clr_driver_plan.h"
#include "tests/wine/win32_replay.h"
#include "tests/wine/wine_session.h"

namespace vmreplay {
namespace {

namespace fs = std::filesystem;
namespace plan = clr_driver;

constexpr uint32_t kEOutOfMemory = 0x8007000E;
constexpr uint32_t HresultFromWin32(uint32_t error) { return 0x80070000u | (error & 0xFFFF); }

using wine_test::ReadText;

std::map<Op, uint64_t> ExpectedCounts() {
  using namespace plan;
  return {
      {Op::kVirtualAlloc, kSegments * kSegmentVirtualAlloc + kExtraVirtualAlloc +
                              kWorkerThreads * kWorkerVirtualAlloc},
      {Op::kVirtualFree,
       kSegments * kSegmentVirtualFree + kExtraVirtualFree + kWorkerThreads * kWorkerVirtualFree},
      {Op::kVirtualQuery, kSegments * kSegmentVirtualQuery + kWorkerThreads * kWorkerVirtualQuery},
      {Op::kVirtualProtect, kSegments * kSegmentVirtualProtect},
      {Op::kGetMemoryLoad, kSegments * kSegmentGetMemoryLoad},
      {Op::kCreateMalloc, 1},
      {Op::kRegisterMemoryNotificationCallback, 1},
      {Op::kNeedsVirtualAddressSpace, 1},
      {Op::kAcquiredVirtualAddressSpace, 1},
      {Op::kReleasedVirtualAddressSpace, 1},
      {Op::kHostDebugAlloc, kWorkerThreads * DebugAllocsPerThread()},
      {Op::kHostAlloc, kWorkerThreads * (kAllocsPerThread - DebugAllocsPerThread())},
      {Op::kHostFree, kWorkerThreads * kAllocsPerThread},
      {Op::kMemoryNotification, kForcedNotifications},
  };
}

// Everything about the driver's trace that does not need a replay.
void CheckDriverTrace(const std::string& path) {
  std::unique_ptr<EventSource> source;
  Status s = OpenTrace(path, &source);
  ASSERT_TRUE(s.ok()) << s.message();
  const proto::Header& h = source->header();
  EXPECT_EQ(h.platform(), proto::PLATFORM_WINDOWS);
  EXPECT_EQ(h.source(), proto::SOURCE_CLR_HOST);
  EXPECT_EQ(h.pointer_bits(), 64u);
  EXPECT_EQ(h.page_size(), 4096u);
  EXPECT_EQ(h.allocation_granularity(), 65536u);
  EXPECT_EQ(h.metadata().at("recorder"), "vmrecord-clr");

  std::map<Op, uint64_t> counts;
  std::map<uint32_t, uint64_t> failures;  // Win32 error -> count, VM calls
  std::set<std::string> files;
  std::set<uint64_t> host_threads;
  std::map<uint64_t, uint64_t> last_time;  // per thread
  std::vector<uint32_t> notification_levels;
  uint64_t heap_id = 0, main_thread = 0;
  Event e;
  uint64_t index = 0;
  while (source->Next(&e)) {
    SCOPED_TRACE("event #" + std::to_string(index++) + " " + std::string(OpName(e.op)));
    ++counts[e.op];
    EXPECT_GE(e.timestamp_ns, last_time[e.thread]) << "timestamps go back on one thread";
    last_time[e.thread] = e.timestamp_ns;
    switch (e.op) {
      case Op::kVirtualAlloc:
        EXPECT_EQ(e.hresult, e.error == 0 ? 0u : kEOutOfMemory);
        EXPECT_EQ(e.result == 0, e.error != 0);
        break;
      case Op::kVirtualFree:
      case Op::kVirtualProtect:
      case Op::kVirtualQuery:
        EXPECT_EQ(e.hresult, e.error == 0 ? 0u : HresultFromWin32(e.error));
        break;
      default:
        EXPECT_EQ(e.hresult, 0u);
        break;
    }
    if (IsWin32VirtualOp(e.op) && e.error != 0) ++failures[e.error];
    if (e.op == Op::kVirtualQuery) {
      EXPECT_EQ(e.result, 48u);  // sizeof(MEMORY_BASIC_INFORMATION) on x64
      EXPECT_NE(e.q_alloc_base, 0u) << "queries stay inside the driver's reservations";
    }
    if (e.op == Op::kCreateMalloc) {
      EXPECT_EQ(e.flags, 1u);  // MALLOC_THREADSAFE
      heap_id = e.result;
      main_thread = e.thread;
    }
    if (IsHostMallocOp(e.op)) {
      EXPECT_EQ(e.heap, heap_id);
      host_threads.insert(e.thread);
    }
    if (e.op == Op::kHostDebugAlloc) {
      files.insert(std::string(source->String(e.file)));
      EXPECT_GE(e.line, 100);
    }
    if (e.op == Op::kMemoryNotification) notification_levels.push_back(e.level);
  }
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  EXPECT_EQ(counts, ExpectedCounts());
  EXPECT_NE(heap_id, 0u);
  EXPECT_EQ(files,
            std::set<std::string>(std::begin(plan::kDebugFiles), std::end(plan::kDebugFiles)));
  EXPECT_EQ(host_threads.size(), static_cast<size_t>(plan::kWorkerThreads));
  EXPECT_EQ(host_threads.count(main_thread), 0u);
  EXPECT_EQ(notification_levels, (std::vector<uint32_t>{1, 3}));  // Low, High
  // The calls that fail by design: protect of reserved memory (487), release with a size
  // (87), commit of released memory (487).
  EXPECT_EQ(failures,
            (std::map<uint32_t, uint64_t>{{487, plan::kSegments + 1}, {87, plan::kSegments}}));

  std::unique_ptr<BinaryTraceReader> reader;
  ASSERT_TRUE(BinaryTraceReader::Open(path, ReaderOptions(), &reader).ok());
  while (reader->NextChunk() != nullptr) {
  }
  EXPECT_TRUE(reader->status().ok()) << reader->status().message();
  EXPECT_TRUE(reader->complete());
  ASSERT_NE(reader->footer(), nullptr);
  EXPECT_EQ(reader->footer()->dropped_events(), 0u);
}

// The win32_oracle replayer (tests/wine/win32_replay.h) takes raw Win32 traces: keep the
// VirtualAlloc/Free/Protect/Query events, with the HRESULT dropped (CheckDriverTrace has
// verified it against the Win32 error), under an oracle header.
Status ProjectToOracleTrace(const std::string& in, const std::string& out) {
  std::unique_ptr<EventSource> source;
  VMREPLAY_RETURN_IF_ERROR(OpenTrace(in, &source));
  proto::Header header = source->header();
  header.set_source(proto::SOURCE_WIN32_ORACLE);
  std::unique_ptr<TraceWriter> writer;
  VMREPLAY_RETURN_IF_ERROR(TraceWriter::Create(out, header, WriterOptions(), &writer));
  Event e;
  while (source->Next(&e)) {
    if (e.op != Op::kVirtualAlloc && e.op != Op::kVirtualFree && e.op != Op::kVirtualProtect &&
        e.op != Op::kVirtualQuery) {
      continue;
    }
    e.hresult = 0;
    VMREPLAY_RETURN_IF_ERROR(writer->Append(e));
  }
  VMREPLAY_RETURN_IF_ERROR(source->status());
  return writer->Finish();
}

void CheckReplaysOnSimulator(const std::string& path, const std::string& scratch) {
  const Status s = ProjectToOracleTrace(path, scratch);
  ASSERT_TRUE(s.ok()) << s.message();
  const wine_test::ReplayReport report = wine_test::ReplayOracleTrace(scratch);
  const std::string summary = wine_test::Describe(path, report);
  std::cout << summary;
  ASSERT_TRUE(report.error.empty()) << summary;
  EXPECT_GT(report.events, 0u);
  EXPECT_EQ(report.total_mismatches, 0u) << summary;
}

class ClrRecorderWineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = fs::path(VMREPLAY_WINE_WORK_DIR);
    std::unique_ptr<wine_test::WineSession> wine = wine_test::WineSession::Open(
        VMREPLAY_WINE64, VMREPLAY_CLR_DRIVER_EXE, work_, &skip_reason_);
    if (!wine) {
      skip_reason_ += " (the checked-in trace is still checked)";
      return;
    }
    fs::remove(work_ / "trace.pb");
    const std::string error = wine->Run("trace.pb", "driver.log");
    wine.reset();
    driver_log_ = ReadText(work_ / "driver.log");
    if (!error.empty()) {
      setup_error_ = error;
      return;
    }
    const char* update = std::getenv("VMREPLAY_UPDATE_WINDOWS_TRACES");
    if (update != nullptr && std::string(update) == "1") {
      const fs::path dest(VMREPLAY_WINDOWS_TRACES_DIR);
      fs::create_directories(dest);
      fs::copy_file(work_ / "trace.pb", dest / "clr_driver.pb",
                    fs::copy_options::overwrite_existing);
    }
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }

  static std::string Trace() { return (work_ / "trace.pb").string(); }

  static inline std::string skip_reason_;
  static inline std::string setup_error_;
  static inline std::string driver_log_;
  static inline fs::path work_;
};

TEST_F(ClrRecorderWineTest, DriverSelfChecksPass) {
  std::cout << driver_log_;
  EXPECT_NE(driver_log_.find("; 0 failed checks"), std::string::npos) << driver_log_;
}

TEST_F(ClrRecorderWineTest, TraceHoldsEveryCallWithConsistentOutcomes) {
  CheckDriverTrace(Trace());
}

TEST_F(ClrRecorderWineTest, VirtualMemoryReplaysOnSimulatorWithoutDivergence) {
  CheckReplaysOnSimulator(Trace(), (work_ / "oracle_projection.pb").string());
}

TEST_F(ClrRecorderWineTest, VmreplayCliReplaysTraceWithoutDivergence) {
  const std::string cli = VMREPLAY_CLI;
  if (!fs::exists(cli)) GTEST_SKIP() << cli << " is not built";
  const std::string cmd = wine_test::ShellQuote(cli) + " " + wine_test::ShellQuote(Trace()) +
                          " --backend=sim --check > " +
                          wine_test::ShellQuote((work_ / "vmreplay.log").string()) + " 2>&1";
  const int status = std::system(cmd.c_str());
  const std::string log = ReadText(work_ / "vmreplay.log");
  std::cout << log;
  EXPECT_EQ(status, 0) << cmd << "\n" << log;
}

// No Wine needed: the capture checked into traces/windows/.
TEST(ClrRecorderCheckedInTrace, HoldsEveryCallAndReplaysWithoutDivergence) {
  const fs::path trace = fs::path(VMREPLAY_WINDOWS_TRACES_DIR) / "clr_driver.pb";
  ASSERT_TRUE(fs::exists(trace)) << trace;
  CheckDriverTrace(trace.string());
  const fs::path scratch =
      fs::temp_directory_path() / ("clr_driver_projection_" + std::to_string(getpid()) + ".pb");
  CheckReplaysOnSimulator(trace.string(), scratch.string());
  fs::remove(scratch);
}

}  // namespace
}  // namespace vmreplay
