#include "recorder/linux/collector.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "proto/trace_writer.h"
#include "recorder/linux/launcher.h"
#include "recorder/linux/shared_ring_buffer.h"
#include "recorder/linux/wire_event.h"

namespace vmreplay::recorder {
namespace {

namespace bip = boost::interprocess;

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t WallNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> CommandLineOf(uint32_t pid) {
  std::vector<std::string> args;
  const std::string raw = ReadSmallFile("/proc/" + std::to_string(pid) + "/cmdline");
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    args.push_back(raw.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

uint64_t CommitLimitBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kb;
  std::string unit;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (key == "CommitLimit:") return kb * 1024;
  }
  return 0;
}

struct SessionClockInfo {
  SessionClock kind = kClockMonotonic;
  ClockConversion conversion;
  // TSC only: a (ticks, CLOCK_MONOTONIC) pair taken together, the calibration's start.
  uint64_t anchor_ticks = 0;
  uint64_t anchor_mono_ns = 0;
};

#if defined(__x86_64__)
constexpr uint64_t kCalibrationNs = 20 * 1000 * 1000;
#endif

// Chooses the session clock: the TSC when the CPU says it is invariant (constant_tsc +
// nonstop_tsc), else CLOCK_MONOTONIC itself. The kind must be fixed before the command starts
// (the hooks read it when they attach); the TSC's rate is measured afterwards by Calibrate,
// while the command is already running, so calibrating no longer delays every recording.
SessionClockInfo ChooseClock(uint64_t start_mono_ns) {
  SessionClockInfo info;
  info.conversion.start_ticks = start_mono_ns;
#if defined(__x86_64__)
  const std::string cpuinfo = ReadSmallFile("/proc/cpuinfo");
  if (cpuinfo.find(" constant_tsc") == std::string::npos ||
      cpuinfo.find(" nonstop_tsc") == std::string::npos) {
    return info;
  }
  info.kind = kClockTsc;
  info.anchor_ticks = __builtin_ia32_rdtsc();
  info.anchor_mono_ns = MonotonicNs();
#endif
  return info;
}

// TSC only: measures ticks against CLOCK_MONOTONIC from the anchor to at least kCalibrationNs
// later (sleeping for what is left of that), and sets the conversion from it.
void Calibrate(uint64_t start_mono_ns, SessionClockInfo* info) {
#if defined(__x86_64__)
  if (info->kind != kClockTsc) return;
  const uint64_t elapsed = MonotonicNs() - info->anchor_mono_ns;
  if (elapsed < kCalibrationNs) {
    const uint64_t left = kCalibrationNs - elapsed;
    timespec ts{0, static_cast<long>(left)};
    nanosleep(&ts, nullptr);
  }
  const uint64_t t1 = __builtin_ia32_rdtsc();
  const uint64_t m1 = MonotonicNs();
  // An invariant TSC never runs backwards; keep a usable (if uncalibrated) conversion anyway.
  if (t1 <= info->anchor_ticks || m1 <= info->anchor_mono_ns) return;
  const double ns_per_tick =
      static_cast<double>(m1 - info->anchor_mono_ns) / static_cast<double>(t1 - info->anchor_ticks);
  info->conversion.ns_per_tick = ns_per_tick;
  // The TSC value at start_mono_ns, from the anchor taken just after it.
  info->conversion.start_ticks =
      info->anchor_ticks -
      static_cast<uint64_t>(static_cast<double>(info->anchor_mono_ns - start_mono_ns) /
                            ns_per_tick);
#else
  (void)start_mono_ns;
  (void)info;
#endif
}

// The shared segment: session header + ring, created by the collector, removed on destruction.
class Segment {
 public:
  ~Segment() {
    if (!name_.empty()) bip::shared_memory_object::remove(name_.c_str());
  }

  Status Create(uint64_t ring_bytes, uint64_t start_mono_ns, const SessionClockInfo& clock) {
    static int counter = 0;
    name_ = "/vmrecord." + std::to_string(getpid()) + "." + std::to_string(counter++);
    const uint64_t capacity = SharedRingBuffer::CapacityFor(ring_bytes);
    if (capacity == 0) return Status::Error("vmrecord: --ring-mb too small");
    const uint64_t bytes = kSessionHeaderBytes + SharedRingBuffer::BytesFor(capacity);
    try {
      bip::shared_memory_object::remove(name_.c_str());
      bip::shared_memory_object shm(bip::create_only, name_.c_str(), bip::read_write);
      shm.truncate(static_cast<bip::offset_t>(bytes));
      region_ = bip::mapped_region(shm, bip::read_write);
    } catch (const std::exception& e) {
      return Status::Error("vmrecord: cannot create shared memory " + name_ + ": " + e.what());
    }
    auto* base = static_cast<unsigned char*>(region_.get_address());
    // A new shared memory object reads as zeros (POSIX ftruncate), so the ring's slots need
    // no formatting: their pages are faulted in as the ring first fills.
    ring_ = SharedRingBuffer::Initialize(base + kSessionHeaderBytes, bytes - kSessionHeaderBytes,
                                         capacity, SharedRingBuffer::Region::kZeroFilled);
    if (ring_ == nullptr) return Status::Error("vmrecord: cannot format the ring");
    session_ = new (base) SessionHeader();
    session_->version = kWireVersion;
    session_->collector_pid = static_cast<uint32_t>(getpid());
    session_->start_mono_ns = start_mono_ns;
    session_->clock = clock.kind;
    // start_ticks and ns_per_tick are filled in by SetConversion once the clock is calibrated.
    session_->ring_offset = kSessionHeaderBytes;
    session_->ring_bytes = bytes - kSessionHeaderBytes;
    session_->next_instance.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    session_->magic = kSessionMagic;
    return Status::Ok();
  }

  // For anyone inspecting the segment; the hooks read only the clock kind.
  void SetConversion(const ClockConversion& conversion) {
    session_->start_ticks = conversion.start_ticks;
    session_->ns_per_tick = conversion.ns_per_tick;
  }

  const std::string& name() const { return name_; }
  SharedRingBuffer* ring() { return ring_; }

 private:
  std::string name_;
  bip::mapped_region region_;
  SessionHeader* session_ = nullptr;
  SharedRingBuffer* ring_ = nullptr;
};

// One process image's trace. The writer is created at the image's first call (or at the
// end): by then the command line that follows the process-start record has arrived, and the
// header, which the writer writes first, is complete.
struct ProcessTrace {
  uint32_t pid = 0;
  std::string path;
  proto::Header header;
  std::string command_line;  // NUL-separated, as sent by the image itself
  bool writer_failed = false;
  std::unique_ptr<TraceWriter> writer;
  std::map<uint64_t, uint64_t> thread_events;
  uint64_t last_thread = 0;
  uint64_t* last_thread_count = nullptr;
  uint64_t dropped = 0;
};

class Demultiplexer {
 public:
  Demultiplexer(const CollectorOptions& options, uint32_t root_pid, const ClockConversion& clock,
                uint64_t start_wall_ns)
      : options_(options), root_pid_(root_pid), clock_(clock), start_wall_ns_(start_wall_ns) {
    stem_ = options.output_path;
    if (stem_.size() > 3 && stem_.compare(stem_.size() - 3, 3, ".pb") == 0) {
      stem_.resize(stem_.size() - 3);
    }
  }

  void Handle(const WireRecord& record) {
    ProcessTrace& trace = TraceFor(record);
    if (record.op == kWireCommandLine) {
      char chunk[kCommandLineChunkBytes];
      memcpy(chunk, &record.arg, 8);
      memcpy(chunk + 8, &record.new_addr, 8);
      memcpy(chunk + 16, &record.result, 8);
      trace.command_line.append(chunk, std::min<size_t>(record.size, sizeof chunk));
      return;
    }
    if (!IsCallRecord(record) || !OpenWriter(trace)) return;
    const Event event = WireToEvent(record, clock_);
    Status s = trace.writer->Append(event);
    if (!s.ok()) Fail(s);
    if (trace.last_thread_count == nullptr || event.thread != trace.last_thread) {
      trace.last_thread = event.thread;
      trace.last_thread_count = &trace.thread_events[event.thread];  // map nodes are stable
    }
    ++*trace.last_thread_count;
    ++events_;
  }

  // A skipped slot: charged to the latest image of `pid`, or to the command's trace.
  void CountDropped(uint32_t pid) {
    ++dropped_;
    auto it = latest_by_pid_.find(pid);
    if (it == latest_by_pid_.end()) it = latest_by_pid_.find(root_pid_);
    if (it != latest_by_pid_.end()) ++instances_[it->second]->dropped;
  }

  // Names threads while they (probably) still exist; best effort.
  void NoteThread(const WireRecord& record) {
    if (thread_names_.count(record.tid) != 0) return;
    std::string name = ReadSmallFile("/proc/" + std::to_string(record.pid) + "/task/" +
                                     std::to_string(record.tid) + "/comm");
    while (!name.empty() && name.back() == '\n') name.pop_back();
    thread_names_[record.tid] = name;
  }

  Status Finish(RecordingResult* result) {
    // The command's trace exists even if it recorded nothing (e.g. a static binary).
    if (latest_by_pid_.count(root_pid_) == 0) {
      WireRecord none{};
      none.pid = root_pid_;
      none.instance = 0;  // never handed out to a process image
      TraceFor(none);
    }
    const uint64_t end_wall = WallNs();
    for (auto& [instance, trace] : instances_) {
      if (!OpenWriter(*trace)) continue;  // already reported
      proto::Footer footer;
      footer.set_dropped_events(trace->dropped);
      footer.set_end_time_unix_ns(end_wall);
      for (const auto& [tid, count] : trace->thread_events) {
        proto::ThreadInfo* info = footer.add_threads();
        info->set_thread_id(tid);
        info->set_event_count(count);
        auto name = thread_names_.find(tid);
        if (name != thread_names_.end()) info->set_name(name->second);
      }
      Status s = trace->writer->Finish(footer);
      if (!s.ok()) Fail(s);
      if (trace->path == options_.output_path) {
        result->trace_paths.insert(result->trace_paths.begin(), trace->path);
      } else {
        result->trace_paths.push_back(trace->path);
      }
    }
    result->events = events_;
    result->dropped_events = dropped_;
    return status_;
  }

 private:
  void Fail(const Status& s) {
    if (status_.ok()) status_ = s;
  }

  bool OpenWriter(ProcessTrace& trace) {
    if (trace.writer != nullptr) return true;
    if (trace.writer_failed) return false;
    if (trace.header.command_line_size() == 0) {
      std::vector<std::string> args;
      if (!trace.command_line.empty()) {
        args = SplitNul(trace.command_line);
      } else {
        args = CommandLineOf(trace.pid);  // a fork child: its parent's command line
      }
      for (const auto& a : args) trace.header.add_command_line(a);
    }
    // The collector must keep pace with the recorded program: see CollectorOptions.
    WriterOptions writer_options;
    writer_options.compress = options_.compress;
    writer_options.zstd_level = options_.zstd_level;
    Status s = TraceWriter::Create(trace.path, trace.header, writer_options, &trace.writer);
    if (!s.ok()) {
      trace.writer_failed = true;
      Fail(s);
      return false;
    }
    return true;
  }

  static std::vector<std::string> SplitNul(const std::string& raw) {
    std::vector<std::string> args;
    size_t start = 0;
    while (start < raw.size()) {
      size_t end = raw.find('\0', start);
      if (end == std::string::npos) end = raw.size();
      args.push_back(raw.substr(start, end - start));
      start = end + 1;
    }
    return args;
  }

  ProcessTrace& TraceFor(const WireRecord& record) {
    auto it = instances_.find(record.instance);
    if (it != instances_.end()) return *it->second;
    // First record of an image: normally its kWireProcessStart.
    auto trace = std::make_unique<ProcessTrace>();
    trace->pid = record.pid;
    const int images_of_pid = images_per_pid_[record.pid]++;
    const bool is_root = record.pid == root_pid_ && images_of_pid == 0;
    if (is_root) {
      trace->path = options_.output_path;
    } else if (images_of_pid == 0) {
      trace->path = stem_ + "." + std::to_string(record.pid) + ".pb";
    } else {
      trace->path =
          stem_ + "." + std::to_string(record.pid) + "." + std::to_string(images_of_pid) + ".pb";
    }
    proto::Header& header = trace->header;
    header.set_platform(proto::PLATFORM_LINUX);
    header.set_source(proto::SOURCE_LINUX_PRELOAD);
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    header.set_page_size(page);
    header.set_allocation_granularity(page);
    header.set_physical_memory(static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * page);
    header.set_commit_limit(CommitLimitBytes());
    header.set_pointer_bits(64);
    uint64_t min_addr = 0;
    std::istringstream(ReadSmallFile("/proc/sys/vm/mmap_min_addr")) >> min_addr;
    header.set_min_user_address(min_addr != 0 ? min_addr : page);
    // x86-64 / aarch64 with 4-level page tables: user space ends one page below 2^47.
    header.set_max_user_address((uint64_t{1} << 47) - page - 1);
    header.set_start_time_unix_ns(start_wall_ns_);
    if (is_root) {
      for (const auto& a : options_.command) header.add_command_line(a);
    }
    auto& meta = *header.mutable_metadata();
    meta["pid"] = std::to_string(record.pid);
    meta["instance"] = std::to_string(record.instance);
    if (record.op == kWireProcessStart) {
      meta["ppid"] = std::to_string(record.addr);
      meta["parent_instance"] = std::to_string(record.arg);
      meta["started_by"] = record.arg != 0 ? "fork" : "exec";
    }
    meta["recorder"] = "vmrecord (LD_PRELOAD)";
    latest_by_pid_[record.pid] = record.instance;
    ProcessTrace& ref = *trace;
    instances_[record.instance] = std::move(trace);
    return ref;
  }

  const CollectorOptions& options_;
  const uint32_t root_pid_;
  const ClockConversion clock_;
  const uint64_t start_wall_ns_;
  std::string stem_;
  std::map<uint32_t, std::unique_ptr<ProcessTrace>> instances_;
  std::map<uint32_t, int> images_per_pid_;
  std::map<uint32_t, uint32_t> latest_by_pid_;
  std::map<uint64_t, std::string> thread_names_;
  uint64_t events_ = 0;
  uint64_t dropped_ = 0;
  Status status_;
};

}  // namespace

Status RecordCommand(const CollectorOptions& options, RecordingResult* result) {
  const uint64_t start_mono = MonotonicNs();
  const uint64_t start_wall = WallNs();
  Segment segment;
  SessionClockInfo clock = ChooseClock(start_mono);
  VMREPLAY_RETURN_IF_ERROR(segment.Create(options.ring_bytes, start_mono, clock));

  // Reap every descendant, not only the direct child: their records share the ring and the
  // recording is complete only when all of them are gone.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Like system(): a terminal's ^C or ^\ goes to the command; the collector stays to save.
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_int, old_quit;
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGQUIT, &ignore, &old_quit);

  pid_t root = 0;
  LaunchSpec spec{options.command, options.preload_path, segment.name()};
  Status launched = Launch(spec, &root);
  if (!launched.ok()) {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
    result->exit_code = 127;
    return launched;
  }

  Calibrate(start_mono, &clock);
  segment.SetConversion(clock.conversion);
  Demultiplexer demux(options, static_cast<uint32_t>(root), clock.conversion, start_wall);
  SharedRingBuffer& ring = *segment.ring();
  std::set<uint32_t> dead;
  bool root_done = false;
  bool children_left = true;
  uint64_t stall_position = UINT64_MAX;
  auto stall_since = std::chrono::steady_clock::now();
  WireRecord record;
  for (;;) {
    // Drain everything committed.
    uint64_t drained = 0;
    SharedRingBuffer::ReadResult r;
    while ((r = ring.TryRead(&record)) == SharedRingBuffer::ReadResult::kRecord) {
      if (record.op == kWireProcessStart || drained % 4096 == 0) demux.NoteThread(record);
      demux.Handle(record);
      ++drained;
    }
    // Reap.
    for (;;) {
      int status = 0;
      const pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid > 0) {
        dead.insert(static_cast<uint32_t>(pid));
        if (pid == root) {
          root_done = true;
          result->exit_code = ExitCodeOf(status);
          result->command_seconds = static_cast<double>(MonotonicNs() - start_mono) * 1e-9;
        }
        continue;
      }
      if (pid < 0 && errno == ECHILD) children_left = false;
      break;
    }
    if (r == SharedRingBuffer::ReadResult::kEmpty && !children_left && root_done) break;
    if (r == SharedRingBuffer::ReadResult::kStalled) {
      const auto now = std::chrono::steady_clock::now();
      if (ring.read_position() != stall_position) {
        stall_position = ring.read_position();
        stall_since = now;
      }
      const uint32_t owner = ring.StalledOwner();
      const bool grace_over = now - stall_since > std::chrono::milliseconds(options.stall_grace_ms);
      // A dead writer can never commit; a writer between Reserve and Claim is unknown, and is
      // presumed dead after the grace period once some recorded process has died.
      const bool skip = !children_left || (owner != 0 && dead.count(owner) != 0) ||
                        (owner == 0 && grace_over && !dead.empty());
      if (skip && ring.SkipStalled()) {
        demux.CountDropped(owner);
        continue;
      }
    }
    if (drained == 0) {
      timespec ts{0, 500 * 1000};
      nanosleep(&ts, nullptr);
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);
  const Status finished = demux.Finish(result);
  result->written_seconds = static_cast<double>(MonotonicNs() - start_mono) * 1e-9;
  return finished;
}

}  // namespace vmreplay::recorder
