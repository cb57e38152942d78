#include "recorder/linux/collector.h"

#include <linux/membarrier.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
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

#include "recorder/linux/call_record.h"
#include "recorder/linux/launcher.h"
#include "recorder/linux/record_merger.h"
#include "recorder/linux/ring_directory.h"
#include "recorder/linux/syscall_tracer.h"
#include "recorder/linux/system_info.h"
#include "recorder/linux/trace_demultiplexer.h"

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
constexpr uint64_t kCalibrationNs = 10 * 1000 * 1000;
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

// Whether Calibrate would no longer sleep.
bool CalibrationDue(const SessionClockInfo& info) {
#if defined(__x86_64__)
  return info.kind != kClockTsc || MonotonicNs() - info.anchor_mono_ns >= kCalibrationNs;
#else
  (void)info;
  return true;
#endif
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

bool MembarrierAvailable() {
  const long commands = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  return commands > 0 && (commands & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0;
}

uint64_t FloorPowerOfTwo(uint64_t v) {
  uint64_t p = 1;
  while (p * 2 <= v) p *= 2;
  return p;
}

// The shared segment: session header + rings, created by the collector, removed on
// destruction.
class Segment {
 public:
  ~Segment() {
    if (!name_.empty()) bip::shared_memory_object::remove(name_.c_str());
  }

  Status Create(const CollectorOptions& options, uint64_t start_mono_ns,
                const SessionClockInfo& clock, std::string* note) {
    static int counter = 0;
    name_ = "/vmrecord." + std::to_string(getpid()) + "." + std::to_string(counter++);
    uint64_t ring_words = FloorPowerOfTwo(options.ring_bytes / 8);
    // POSIX shared memory lives in /dev/shm on Linux (glibc's shm_open).
    struct statvfs shm_fs {};
    if (statvfs("/dev/shm", &shm_fs) == 0) {
      const uint64_t available = static_cast<uint64_t>(shm_fs.f_bavail) * shm_fs.f_frsize;
      const uint64_t fitted = RingDirectory::RingWordsThatFit(available, options.rings,
                                                              options.shared_rings, ring_words);
      if (fitted < ring_words) {
        *note = "vmrecord: /dev/shm has " + std::to_string(available >> 20) +
                " MiB free: rings of " + std::to_string(fitted * 8 >> 10) + " KiB instead of " +
                std::to_string(ring_words * 8 >> 10) + " KiB (threads wait for the collector more)";
        ring_words = fitted;
      }
    }
    if (ring_words < RingDirectory::kMinRingWords || options.shared_rings == 0) {
      return Status::Error("vmrecord: rings too small (at least " +
                           std::to_string(RingDirectory::kMinRingWords * 8) +
                           " bytes and one shared ring)");
    }
    const uint64_t bytes =
        RingDirectory::SegmentBytesFor(options.rings, options.shared_rings, ring_words);
    try {
      bip::shared_memory_object::remove(name_.c_str());
      bip::shared_memory_object shm(bip::create_only, name_.c_str(), bip::read_write);
      shm.truncate(static_cast<bip::offset_t>(bytes));
      region_ = bip::mapped_region(shm, bip::read_write);
    } catch (const std::exception& e) {
      return Status::Error("vmrecord: cannot create shared memory " + name_ + ": " + e.what());
    }
    auto* base = static_cast<unsigned char*>(region_.get_address());
    // A new shared memory object reads as zeros (POSIX ftruncate), so the rings need no
    // formatting: an all-zero ring is an empty free one, and pages are touched only when used.
    session_ = new (base) SessionHeader();
    session_->version = kWireVersion;
    session_->collector_pid = static_cast<uint32_t>(getpid());
    session_->start_mono_ns = start_mono_ns;
    session_->clock = clock.kind;
    session_->fence =
        !options.fence_per_record && MembarrierAvailable() ? kFenceMembarrier : kFencePerRecord;
    session_->timing = options.coarse_timing ? kTimingCoarse : kTimingFull;
    // start_ticks and ns_per_tick are filled in by SetConversion once the clock is calibrated.
    session_->next_instance.store(1, std::memory_order_relaxed);
    if (!RingDirectory::Format(session_, bytes, options.rings, options.shared_rings, ring_words) ||
        !rings_.Attach(session_, bytes)) {
      return Status::Error("vmrecord: cannot lay out the rings");
    }
    // Last, though nothing can look before it: the command starts after this returns, and the
    // fork and exec order everything written here before its first read.
    session_->magic = kSessionMagic;
    return Status::Ok();
  }

  void SetTracerTid(uint32_t tid) { session_->tracer_tid = tid; }

  // For anyone inspecting the segment; the hooks read only the clock kind.
  void SetConversion(const ClockConversion& conversion) {
    session_->start_ticks = conversion.start_ticks;
    session_->ns_per_tick = conversion.ns_per_tick;
  }

  const std::string& name() const { return name_; }
  const RingDirectory& rings() const { return rings_; }
  bool membarrier() const { return session_->fence == kFenceMembarrier; }

 private:
  std::string name_;
  bip::mapped_region region_;
  SessionHeader* session_ = nullptr;
  RingDirectory rings_;
};

// Whether thread `tid` of process `pid` is gone (a writer that can never publish again).
bool ThreadGone(uint32_t pid, uint32_t tid) {
  return syscall(SYS_tgkill, static_cast<pid_t>(pid), static_cast<pid_t>(tid), 0) == -1 &&
         errno == ESRCH;
}

// Records held before the calibration that the collector encodes between two rounds: a few
// ms of work, well within what a ring absorbs meanwhile.
constexpr size_t kHeldSlice = 32768;

// How long a pending mark must stay unchanged before its writer's liveness is checked: far
// longer than any record takes, short enough not to hold the watermark back noticeably.
constexpr auto kWriterStall = std::chrono::milliseconds(5);

}  // namespace

Status RecordCommand(const CollectorOptions& options, RecordingResult* result) {
  const uint64_t start_mono = MonotonicNs();
  const uint64_t start_wall = WallNs();
  Segment segment;
  SessionClockInfo clock = ChooseClock(start_mono);
  VMREPLAY_RETURN_IF_ERROR(segment.Create(options, start_mono, clock, &result->ring_note));
  result->membarrier = segment.membarrier();

  // Reap every descendant, not only the direct child: their records share the segment and the
  // recording is complete only when all of them are gone.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Like system(): a terminal's ^C or ^\ goes to the command; the collector stays to save.
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_int, old_quit;
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGQUIT, &ignore, &old_quit);

  pid_t root = 0;
  // Attaches to the command before it execs, and reaps every descendant from then on.
  SyscallTracer tracer(segment.rings(), clock.kind == kClockTsc, options.trace_syscalls);
  LaunchSpec spec{options.command, options.preload_path, segment.name(), [&](pid_t child) {
                    const bool traced = tracer.Start(child);
                    if (traced) segment.SetTracerTid(tracer.tid());
                    return traced;
                  }};
  Status launched = Launch(spec, &root);
  if (!launched.ok()) {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
    result->exit_code = 127;
    return launched;
  }

  // The TSC is calibrated while the command runs and the rings are drained: records are held
  // until then (kCalibrationNs of them), rather than leave the writers waiting for ring space.
  TraceDemultiplexer demux(options, static_cast<uint32_t>(root), start_wall);
  if (tracer.stats().attached) {
    demux.SetSyscallTracer("on", [&](uint32_t instance) { return tracer.Announced(instance); });
  } else {
    demux.SetSyscallTracer("off: " + tracer.stats().not_attached_why, nullptr);
  }
  bool calibrated = false;
  auto calibrate = [&] {
    Calibrate(start_mono, &clock);
    segment.SetConversion(clock.conversion);
    demux.SetClock(clock.conversion);
    calibrated = true;
  };
  RecordMerger merger(segment.rings(),
                      {.use_tsc = clock.kind == kClockTsc, .membarrier = segment.membarrier()});
  auto sink = [&](const CallRecord& record) { demux.Handle(record); };
  auto lost = [&](uint32_t pid) { demux.CountDropped(pid); };
  std::set<uint32_t> dead;
  // Processes known to be gone, with the session clock when that became known: every record
  // they published has a smaller key, so once the merge's watermark passes it their traces can
  // be finished (in order found, so clocks only grow). A recording of a shell script or a build
  // would otherwise hold a file open per process image until the end, and run out of
  // descriptors past `ulimit -n`. Our own children are reaped here; the others (a shell's
  // children, reaped by the shell) are found gone by polling their pids.
  std::deque<std::pair<uint32_t, uint64_t>> to_finish;
  std::set<uint32_t> finishing;
  auto finish_later = [&](uint32_t pid) {
    if (finishing.insert(pid).second) to_finish.emplace_back(pid, merger.ClockNow());
  };
  std::vector<SyscallTracer::Notice> exits;
  auto last_poll = std::chrono::steady_clock::now();
  auto last_recycle = last_poll;
  bool root_done = false;
  bool children_left = true;
  for (;;) {
    const RecordMerger::RoundStats round = merger.Round(sink);
    if (!calibrated && CalibrationDue(clock)) calibrate();
    // What arrived before the calibration, a slice per round (more than the round added, so
    // that the backlog shrinks): the rings keep being drained meanwhile.
    const size_t held = calibrated ? demux.EncodeHeld(kHeldSlice + round.emitted) : 0;
    while (calibrated && !to_finish.empty() && merger.watermark() > to_finish.front().second) {
      demux.FinishProcess(to_finish.front().first);
      to_finish.pop_front();
    }
    // Exits, as the tracer (the reaper) saw them: every one is handed over before done().
    const bool tracer_done = tracer.done();
    exits.clear();
    tracer.TakeNotices(&exits);
    for (const auto& [pid, status, lost_call] : exits) {
      if (lost_call) {
        demux.CountDropped(static_cast<uint32_t>(pid));
        continue;
      }
      dead.insert(static_cast<uint32_t>(pid));
      demux.NoteExit(static_cast<uint32_t>(pid), status);
      finish_later(static_cast<uint32_t>(pid));
      if (pid == root) {
        root_done = true;
        result->exit_code = ExitCodeOf(status);
        result->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        result->command_seconds = static_cast<double>(MonotonicNs() - start_mono) * 1e-9;
      }
    }
    if (tracer_done) children_left = false;
    const bool everyone_gone = root_done && !children_left;
    if (everyone_gone) {
      // Every mark left belongs to a dead writer.
      merger.ClearDeadWriters(
          std::chrono::milliseconds(0), [](uint32_t, uint32_t) { return true; }, lost);
      if (merger.drained()) break;
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_poll > std::chrono::milliseconds(10)) {
      last_poll = now;
      for (uint32_t pid : demux.UnfinishedPids()) {
        if (finishing.count(pid) == 0 && kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) {
          dead.insert(pid);
          finish_later(pid);
        }
      }
      // Writers that died with a record in progress: reaped processes at once, the others
      // (a thread killed by another's exec, a process reaped by someone else) once their mark
      // has stayed long enough for a liveness check.
      merger.ClearDeadWriters(
          std::chrono::milliseconds(0),
          [&](uint32_t pid, uint32_t) { return dead.count(pid) != 0; }, lost);
      merger.ClearDeadWriters(kWriterStall, &ThreadGone, lost);
    }
    if (now - last_recycle > std::chrono::milliseconds(50)) {
      last_recycle = now;
      merger.RecycleRings(&ThreadGone);
    }
    // Sleep when there was little to do: a round fences every writer, so rounds are paced.
    if (held == 0 && (round.emitted == 0 || (round.emitted < 8192 && round.fullest < 0.25))) {
      timespec ts{0, (round.emitted == 0 ? 500 : 200) * 1000};
      nanosleep(&ts, nullptr);
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);
  if (!calibrated) calibrate();  // waits for what is left of the calibration interval
  tracer.Join();
  result->tracer = tracer.stats();
  result->late_records = merger.late_records();
  result->corruption = merger.corruption();
  result->unreadable_words = merger.unreadable_words();
  const Status finished = demux.Finish(result);
  result->written_seconds = static_cast<double>(MonotonicNs() - start_mono) * 1e-9;
  return finished;
}

}  // namespace vmreplay::recorder
