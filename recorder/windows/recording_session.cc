#include "recorder/windows/recording_session.h"

#include <chrono>
#include <cstring>

namespace vmreplay::win {
namespace {

// proto::Platform / proto::SourceKind values (trace.proto), without the protobuf headers.
constexpr uint32_t kPlatformWindows = 1;
constexpr uint32_t kSourceClrHost = 1;

uint64_t UnixNowNs() {
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  const uint64_t ticks = (uint64_t{ft.dwHighDateTime} << 32) | ft.dwLowDateTime;  // 100 ns
  constexpr uint64_t kEpochDelta = 116444736000000000ull;  // 1601 -> 1970 in 100 ns
  return (ticks - kEpochDelta) * 100;
}

portable::Header MakeHeader(const SessionOptions& options) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  MEMORYSTATUSEX ms = {};
  ms.dwLength = sizeof ms;
  GlobalMemoryStatusEx(&ms);
  portable::Header h;
  h.platform = kPlatformWindows;
  h.source = kSourceClrHost;
  h.page_size = si.dwPageSize;
  h.allocation_granularity = si.dwAllocationGranularity;
  h.min_user_address = reinterpret_cast<uint64_t>(si.lpMinimumApplicationAddress);
  h.max_user_address = reinterpret_cast<uint64_t>(si.lpMaximumApplicationAddress);
  h.physical_memory = ms.ullTotalPhys;
  h.commit_limit = ms.ullTotalPageFile;  // the system commit limit, in bytes
  h.pointer_bits = sizeof(void*) * 8;
  h.command_line = options.command_line;
  h.start_time_unix_ns = UnixNowNs();
  h.metadata["recorder"] = "vmrecord-clr";
  if (!options.runtime_version.empty()) h.metadata["clr_version"] = options.runtime_version;
  return h;
}

}  // namespace

RecordingSession::RecordingSession(const SessionOptions& options,
                                   std::unique_ptr<portable::PortableTraceWriter> writer)
    : writer_(std::move(writer)), ring_(options.ring_capacity) {
  QueryPerformanceFrequency(&frequency_);
  QueryPerformanceCounter(&start_);
}

Status RecordingSession::Start(const SessionOptions& options,
                               std::unique_ptr<RecordingSession>* out) {
  if (options.ring_capacity < 2 || (options.ring_capacity & (options.ring_capacity - 1)) != 0) {
    return Status::Error("ring capacity must be a power of two");
  }
  std::unique_ptr<portable::PortableTraceWriter> writer;
  VMREPLAY_RETURN_IF_ERROR(portable::PortableTraceWriter::Create(
      options.trace_path, MakeHeader(options), options.events_per_chunk, &writer));
  std::unique_ptr<RecordingSession> session(new RecordingSession(options, std::move(writer)));
  session->drainer_ = std::thread([s = session.get()] { s->Drain(); });
  *out = std::move(session);
  return Status::Ok();
}

RecordingSession::~RecordingSession() {
  if (!finished_) Finish();
}

uint64_t RecordingSession::NowNs() const {
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  const auto ticks = static_cast<uint64_t>(now.QuadPart - start_.QuadPart);
  const auto f = static_cast<uint64_t>(frequency_.QuadPart);
  return ticks / f * 1000000000 + ticks % f * 1000000000 / f;
}

void RecordingSession::Record(const Event& event, const char* file) {
  CallRecord record;
  record.event = event;
  record.file[0] = '\0';
  if (file != nullptr) {
    size_t n = 0;
    while (n + 1 < sizeof record.file && file[n] != '\0') {
      record.file[n] = file[n];
      ++n;
    }
    record.file[n] = '\0';
  }
  while (!ring_.TryPush(record)) {
    full_waits_.fetch_add(1, std::memory_order_relaxed);
    SwitchToThread();
  }
}

bool RecordingSession::DrainOnce() {
  CallRecord record;
  bool any = false;
  while (ring_.TryPop(&record)) {
    any = true;
    if (record.event.op == Op::kHostDebugAlloc && record.file[0] != '\0') {
      record.event.file = writer_->InternString(record.file);
    }
    if (Status s = writer_->Append(record.event); !s.ok() && drain_status_.ok()) {
      drain_status_ = s;
    }
  }
  return any;
}

void RecordingSession::Drain() {
  while (!stop_.load(std::memory_order_acquire)) {
    if (!DrainOnce()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  DrainOnce();  // whatever was pushed before stop_ was set
}

Status RecordingSession::Finish() {
  if (finished_) return drain_status_;
  finished_ = true;
  stop_.store(true, std::memory_order_release);
  if (drainer_.joinable()) drainer_.join();
  portable::FooterExtra extra;
  extra.end_time_unix_ns = UnixNowNs();
  Status s = writer_->Finish(extra);
  return drain_status_.ok() ? s : drain_status_;
}

}  // namespace vmreplay::win
