#include "recorder/linux/collector.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <chrono>
#include <deque>
#include <set>
#include <string>

#include "recorder/linux/launcher.h"
#include "recorder/linux/shared_ring_buffer.h"
#include "recorder/linux/system_info.h"
#include "recorder/linux/trace_demultiplexer.h"
#include "recorder/linux/wire_event.h"

namespace vmreplay::recorder {
namespace {

namespace bip = boost::interprocess;

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
  TraceDemultiplexer demux(options, static_cast<uint32_t>(root), clock.conversion, start_wall);
  SharedRingBuffer& ring = *segment.ring();
  std::set<uint32_t> dead;
  // Processes known to be gone, and the ring position the reader must pass before their traces
  // can be finished: every record a process wrote sits before the write position at any time
  // after its death. (In order found, so positions only grow.) A recording of a shell script or
  // a build would otherwise hold a file open per process image until the end, and run out of
  // descriptors past `ulimit -n`. Our own children are reaped here; the others (a shell's
  // children, reaped by the shell) are found gone by polling their pids.
  std::deque<std::pair<uint32_t, uint64_t>> to_finish;
  std::set<uint32_t> finishing;
  auto finish_later = [&](uint32_t pid) {
    if (finishing.insert(pid).second) to_finish.emplace_back(pid, ring.write_position());
  };
  auto last_poll = std::chrono::steady_clock::now();
  bool root_done = false;
  bool children_left = true;
  uint64_t stall_position = UINT64_MAX;
  auto stall_since = std::chrono::steady_clock::now();
  WireRecord record;
  for (;;) {
    // Drain everything committed.
    uint64_t drained = 0;
    SharedRingBuffer::ReadResult r;
    for (;;) {
      // Exactly at the boundary: a later process that reuses the pid has no record before it.
      while (!to_finish.empty() && ring.read_position() >= to_finish.front().second) {
        demux.FinishProcess(to_finish.front().first);
        to_finish.pop_front();
      }
      if ((r = ring.TryRead(&record)) != SharedRingBuffer::ReadResult::kRecord) break;
      demux.Handle(record);
      ++drained;
    }
    // Reap.
    for (;;) {
      int status = 0;
      const pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid > 0) {
        dead.insert(static_cast<uint32_t>(pid));
        finish_later(static_cast<uint32_t>(pid));
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
    if (const auto now = std::chrono::steady_clock::now();
        now - last_poll > std::chrono::milliseconds(10)) {
      last_poll = now;
      for (uint32_t pid : demux.UnfinishedPids()) {
        if (finishing.count(pid) == 0 && kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) {
          dead.insert(pid);  // a slot it left claimed can be skipped (see below)
          finish_later(pid);
        }
      }
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
      // A writer that died inside a call it had reserved a place for (free, munmap) lost
      // nothing: the call never returned. Anything else skipped is a lost record.
      const bool inside_call = ring.StalledInsideCall();
      if (skip && ring.SkipStalled()) {
        if (!inside_call) demux.CountDropped(owner);
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
