#include "recorder/linux/syscall_tracer.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "recorder/linux/thread_ring.h"
#include "recorder/linux/wire_protocol.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace vmreplay::recorder {
namespace {

uint32_t Gettid() { return static_cast<uint32_t>(syscall(SYS_gettid)); }

// The thread group (process) of thread `tid`, from /proc; 0 if it is gone.
uint32_t TgidOf(uint32_t tid) {
  std::ifstream status("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Tgid:", 0) == 0) return static_cast<uint32_t>(std::stoul(line.substr(5)));
  }
  return 0;
}

// What the code at an address is, for a call's origin.
enum class CodeKind : uint8_t { kOther, kLibc, kLoader, kPreload };

struct CodeRange {
  uint64_t begin, end;
  CodeKind kind;
};

CodeKind KindOfPath(const std::string& path) {
  const std::string base = path.substr(path.rfind('/') + 1);
  if (base.find("libvmrecord_preload") != std::string::npos) return CodeKind::kPreload;
  if (base.rfind("ld-linux", 0) == 0 || base.rfind("ld64.so", 0) == 0 ||
      (base.rfind("ld-", 0) == 0 && base.find(".so") != std::string::npos)) {
    return CodeKind::kLoader;
  }
  // glibc: libc itself, and before 2.34 the libraries it was split into (thread stacks came
  // from libpthread then).
  for (const char* lib : {"libc.so", "libc-", "libpthread", "librt", "libdl"}) {
    if (base.rfind(lib, 0) == 0) return CodeKind::kLibc;
  }
  return CodeKind::kOther;
}

// The executable mappings of process `pid` (/proc/PID/maps).
std::vector<CodeRange> ReadCode(uint32_t pid) {
  std::vector<CodeRange> code;
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long begin = 0, end = 0;
    char perms[8] = {};
    int path_at = 0;
    if (sscanf(line.c_str(), "%llx-%llx %7s %*s %*s %*s %n", &begin, &end, perms, &path_at) < 3) {
      continue;
    }
    if (perms[2] != 'x') continue;
    const std::string path = path_at > 0 ? line.substr(static_cast<size_t>(path_at)) : "";
    code.push_back({begin, end, KindOfPath(path)});
  }
  return code;
}

// What the tracer knows of one process image.
struct Image {
  bool announced = false;
  uint32_t instance = 0;
  int64_t guard_offset = 0;  // the re-entry guard's address minus the thread pointer
  uint64_t own_begin = 0, own_end = 0;
  std::vector<CodeRange> code;  // read on demand; cleared at exec
  // What glibc's malloc mapped for itself (calls of origin heap), start -> end: its calls on
  // those pages outside a recorded heap call (an arena trimmed at a thread's exit) are the
  // heap's own too.
  std::map<uint64_t, uint64_t> heap_ranges;

  bool InHeapRange(uint64_t start, uint64_t end) const {
    auto it = heap_ranges.upper_bound(start);
    if (it == heap_ranges.begin()) return false;
    --it;
    return it->first <= start && end <= it->second;
  }
  void EraseHeapRanges(uint64_t start, uint64_t end) {
    auto it = heap_ranges.lower_bound(start);
    if (it != heap_ranges.begin() && std::prev(it)->second > start) --it;
    while (it != heap_ranges.end() && it->first < end) {
      const uint64_t s = it->first, e = it->second;
      it = heap_ranges.erase(it);
      if (s < start) heap_ranges[s] = start;
      if (e > end) heap_ranges[end] = e;
    }
  }
};

constexpr uint64_t PageUp(uint64_t v) { return (v + 4095) & ~uint64_t{4095}; }

bool IsTracedCall(long nr) {
  return nr == SYS_mmap || nr == SYS_munmap || nr == SYS_mremap || nr == SYS_mprotect ||
         nr == SYS_madvise;
}

bool IsStopSignal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

}  // namespace

class SyscallTracer::Impl {
 public:
  Impl(const RingDirectory& rings, bool use_tsc, SyscallTracerStats* stats)
      : rings_(rings), use_tsc_(use_tsc), stats_(stats) {}

  // Claims the tracer's ring; false if none is free.
  bool ClaimRing() {
    self_pid_ = static_cast<uint32_t>(getpid());
    self_tid_ = Gettid();
    const int index = rings_.Claim(self_pid_, self_tid_);
    if (index < 0) return false;
    ring_ = rings_.Ring(static_cast<uint32_t>(index));
    return true;
  }

  bool Seize(pid_t child) {
    // Before Linux 4.8 the seccomp stop came before the syscall-entry stop, so the stop after
    // it would not be the call's exit.
    utsname u{};
    int major = 0, minor = 0;
    if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
        (major < 4 || (major == 4 && minor < 8))) {
      stats_->not_attached_why = std::string("Linux ") + u.release + " is older than 4.8";
      return false;
    }
    constexpr long kOptions = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                              PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD |
                              PTRACE_O_EXITKILL;
    if (ptrace(PTRACE_SEIZE, child, nullptr, reinterpret_cast<void*>(kOptions)) != 0) {
      stats_->not_attached_why = std::string("ptrace(PTRACE_SEIZE): ") + strerror(errno);
      return false;
    }
    pid_of_[static_cast<uint32_t>(child)] = static_cast<uint32_t>(child);
    processes_.insert(static_cast<uint32_t>(child));
    stats_->attached = true;
    return true;
  }

  // One wait status of `tid`; on_exit(pid, status) for a process that is gone.
  template <typename OnExit>
  void Handle(pid_t tid, int status, OnExit&& on_exit) {
    const uint32_t t = static_cast<uint32_t>(tid);
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      const bool process = processes_.count(t) != 0 || pid_of_.count(t) == 0;
      if (process) {
        processes_.erase(t);
        images_.erase(t);
        on_exit(tid, status);
      }
      pid_of_.erase(t);
      return;
    }
    if (!WIFSTOPPED(status)) return;
    const int sig = WSTOPSIG(status);
    const int event = status >> 16;
    if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
      OnSeccompStop(t);
      return;
    }
    if (sig == SIGTRAP && (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
                           event == PTRACE_EVENT_CLONE)) {
      unsigned long child = 0;
      ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child);
      const uint32_t c = static_cast<uint32_t>(child);
      if (event == PTRACE_EVENT_CLONE) {
        const uint32_t tgid = TgidOf(c);
        if (tgid != 0 && tgid != c) {
          pid_of_[c] = tgid;  // a thread
        } else {
          pid_of_[c] = c;
          processes_.insert(c);
        }
      } else {
        pid_of_[c] = c;
        processes_.insert(c);
        // Announces itself from its atfork handler (or after exec), which may already have
        // happened: a new tracee's first stop can come before its parent's event.
        images_.try_emplace(c);
      }
      Resume(tid, 0);
      return;
    }
    if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
      unsigned long former = 0;  // a thread other than the leader exec'd: it is the leader now
      ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &former);
      if (former != 0 && former != static_cast<unsigned long>(t)) {
        pid_of_.erase(static_cast<uint32_t>(former));
      }
      const uint32_t pid = PidOf(t);
      images_[pid] = Image{};  // calls before the new image's preload starts are not recorded
      Resume(tid, 0);
      return;
    }
    if (event == PTRACE_EVENT_STOP) {
      // A group-stop (^Z, SIGSTOP) stays stopped until SIGCONT; any other (a new tracee's
      // first stop) runs on.
      if (IsStopSignal(sig)) {
        ptrace(PTRACE_LISTEN, tid, nullptr, nullptr);
      } else {
        // A new tracee's first stop can come before its parent's fork or clone event, and a
        // short thread can exit before that event is handled: learn its process now.
        PidOf(t);
        Resume(tid, 0);
      }
      return;
    }
    if (sig == (SIGTRAP | 0x80)) {  // a syscall stop nobody asked for
      Resume(tid, 0);
      return;
    }
    Resume(tid, sig);  // a signal for the tracee: deliver it
  }

 private:
  static void Resume(pid_t tid, int sig) {
    ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
  }

  uint32_t PidOf(uint32_t tid) {
    auto it = pid_of_.find(tid);
    if (it != pid_of_.end()) return it->second;
    uint32_t tgid = TgidOf(tid);
    if (tgid == 0) tgid = tid;
    pid_of_[tid] = tgid;
    if (tgid == tid) processes_.insert(tid);
    return tgid;
  }

  uint64_t Clock() const {
#if defined(__x86_64__)
    if (use_tsc_) {
      _mm_lfence();
      return __rdtsc();
    }
#endif
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  }

  CodeKind KindAt(uint32_t pid, Image& image, uint64_t ip) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      for (const CodeRange& r : image.code) {
        if (ip >= r.begin && ip < r.end) return r.kind;
      }
      if (attempt == 0) image.code = ReadCode(pid);  // a library mapped since
    }
    return CodeKind::kOther;
  }

  bool GuardHeld(uint32_t tid, const Image& image, uint64_t fs_base) {
    int guard = 0;
    iovec local{&guard, sizeof guard};
    iovec remote{reinterpret_cast<void*>(fs_base + static_cast<uint64_t>(image.guard_offset)),
                 sizeof guard};
    return process_vm_readv(static_cast<pid_t>(tid), &local, 1, &remote, 1, 0) ==
               static_cast<ssize_t>(sizeof guard) &&
           guard != 0;
  }

  void OnSeccompStop(uint32_t tid) {
#if defined(__x86_64__)
    const uint64_t entry = Clock();
    unsigned long data = 0;
    ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &data);
    user_regs_struct regs{};
    if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return;  // gone meanwhile
    const uint32_t pid = PidOf(tid);
    Image& image = images_[pid];
    if (data == kFilterDataAnnounce) {
      if (regs.rdi == kAnnounceOption) {
        image.announced = true;
        image.instance = static_cast<uint32_t>(regs.rsi);
        image.guard_offset = static_cast<int64_t>(regs.rdx);
        image.own_begin = regs.r10;
        image.own_end = regs.r8;
        ++stats_->images;
        {
          std::lock_guard<std::mutex> lock(announced_mutex_);
          announced_.insert(image.instance);
        }
        // The answer, kAnnounceAck in place of the kernel's EINVAL, so that the image knows a
        // filter of ours is there (syscall_filter.cc installs one when the answer is anything
        // else). The call itself runs, so the kernel's tracepoints see every announcement.
        if (!RunToExit(tid)) return;
        user_regs_struct after{};
        if (ptrace(PTRACE_GETREGS, tid, nullptr, &after) == 0) {
          after.rax = kAnnounceAck;
          ptrace(PTRACE_SETREGS, tid, nullptr, &after);
        }
      }
      Resume(static_cast<pid_t>(tid), 0);
      return;
    }
    // Another seccomp filter's SECCOMP_RET_TRACE (the program's own sandbox): not ours.
    const long nr = static_cast<long>(regs.orig_rax);
    if (data != kFilterDataCall || !IsTracedCall(nr)) {
      Resume(static_cast<pid_t>(tid), 0);
      return;
    }
    const uint64_t ip = regs.rip;
    if (!image.announced) {
      ++stats_->before_start;
      Resume(static_cast<pid_t>(tid), 0);
      return;
    }
    if (ip >= image.own_begin && ip < image.own_end) {
      ++stats_->own_calls;
      Resume(static_cast<pid_t>(tid), 0);
      return;
    }
    CallOrigin origin = CallOrigin::kOther;
    switch (KindAt(pid, image, ip)) {
      case CodeKind::kPreload:
        ++stats_->own_calls;
        Resume(static_cast<pid_t>(tid), 0);
        return;
      case CodeKind::kLibc:
        origin =
            GuardHeld(tid, image, regs.fs_base) ||
                    (nr != SYS_mmap && image.InHeapRange(regs.rdi, regs.rdi + PageUp(regs.rsi)))
                ? CallOrigin::kHeapInternal
                : CallOrigin::kLibc;
        break;
      case CodeKind::kLoader:
        origin = CallOrigin::kLoader;
        break;
      case CodeKind::kOther:
        break;
    }
    const uint8_t op = nr == SYS_mmap       ? kWireMmap
                       : nr == SYS_munmap   ? kWireMunmap
                       : nr == SYS_mremap   ? kWireMremap
                       : nr == SYS_mprotect ? kWireMprotect
                                            : kWireMadvise;
    // A release takes its key before the call, like the preload's munmap.
    const bool release = KeyedBeforeCall(op);
    uint64_t head = 0, key = 0;
    bool have_space = Reserve(&head);
    if (have_space && release) key = MarkAndKey(head);
    // Run the call to its exit.
    if (!RunToExit(tid)) {
      // Killed inside the call (its process exiting meanwhile, say): the call ran or not, its
      // outcome was never seen. Counted as dropped in its trace's footer, as the preload's are.
      if (have_space && release) ring_.header->pending.store(0, std::memory_order_release);
      lost_.push_back(pid);
      return;
    }
    user_regs_struct after{};
    ptrace(PTRACE_GETREGS, tid, nullptr, &after);
    const uint64_t exit_time = Clock();
    if (!have_space) {
      ++stats_->dropped;
      lost_.push_back(pid);
      Resume(static_cast<pid_t>(tid), 0);
      return;
    }
    if (!release) key = MarkAndKey(head);
    const long rax = static_cast<long>(after.rax);
    const bool failed = rax < 0 && rax >= -4095;
    const uint32_t error = failed ? static_cast<uint32_t>(-rax) : 0;
    const uint64_t result = failed ? ~uint64_t{0} : static_cast<uint64_t>(rax);
    uint64_t payload[6];
    unsigned n = 0;
    switch (op) {
      case kWireMmap:
        payload[0] = regs.rdi;
        payload[1] = regs.rsi;
        payload[2] = (regs.rdx & 0xFFFFFFFFu) | (regs.r10 & 0xFFFFFFFFu) << 32;
        payload[3] = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(regs.r8)));
        payload[4] = regs.r9;
        payload[5] = result;
        n = 6;
        break;
      case kWireMremap:
        payload[0] = regs.rdi;
        payload[1] = regs.rsi;
        payload[2] = regs.rdx;
        payload[3] = regs.r10 & 0xFFFFFFFFu;
        payload[4] = (regs.r10 & MREMAP_FIXED) != 0 ? regs.r8 : 0;  // as the preload records it
        payload[5] = result;
        n = 6;
        break;
      case kWireMunmap:
        payload[0] = regs.rdi;
        payload[1] = regs.rsi;
        n = 2;
        break;
      default:  // mprotect, madvise
        payload[0] = regs.rdi;
        payload[1] = regs.rsi;
        payload[2] = regs.rdx & 0xFFFFFFFFu;
        n = 3;
        break;
    }
    const uint64_t latency = exit_time - entry;
    const uint64_t writer = uint64_t{image.instance} << 32 | tid;
    const uint64_t pid_origin = uint64_t{static_cast<uint8_t>(origin)} << 32 | pid;
    unsigned words = 0;
    if (writer != last_writer_ || pid_origin != last_pid_origin_) {
      const uint64_t w2[2] = {writer, pid_origin};
      words += PutRecord(ring_, head, key, kWireWriter, 0, 0, w2, 2);
      last_writer_ = writer;
      last_pid_origin_ = pid_origin;
    }
    // Keyed before the call: the latency counts from the key; after: up to it.
    words += PutRecord(ring_, head + words, key, op, error, release ? exit_time - key : latency,
                       payload, n);
    Publish(ring_, head, words, key);
    ++stats_->recorded[static_cast<int>(origin)];
    if (!failed) NoteHeapRanges(image, op, origin, regs, result);
    Resume(static_cast<pid_t>(tid), 0);
#else
    Resume(static_cast<pid_t>(tid), 0);
#endif
  }

  // Resumes `tid` from its seccomp stop to the call's syscall-exit stop. False when it did not
  // get there (it died; its status is kept for Handle).
  bool RunToExit(uint32_t tid) {
    ptrace(PTRACE_SYSCALL, tid, nullptr, nullptr);
    // Waits for this thread's next status, keeping every other one for later: waiting for this
    // thread alone could wait forever (a leader killed inside the call is reported only once
    // its other threads, zombies until we reap them, are gone).
    int status = 0;
    pid_t w;
    for (;;) {
      w = waitpid(-1, &status, __WALL);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 || w == static_cast<pid_t>(tid)) break;
      pending_status_.emplace_back(w, status);
    }
    if (w > 0 && WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80)) return true;
    if (w > 0) pending_status_.emplace_back(w, status);
    return false;
  }

  // Keeps Image::heap_ranges: what the heap's own calls mapped, less whatever is unmapped.
  static void NoteHeapRanges(Image& image, uint8_t op, CallOrigin origin,
                             const user_regs_struct& regs, uint64_t result) {
    const bool heap = origin == CallOrigin::kHeapInternal;
    if (op == kWireMmap) {
      image.EraseHeapRanges(result, result + PageUp(regs.rsi));  // MAP_FIXED replaces
      if (heap) image.heap_ranges[result] = result + PageUp(regs.rsi);
    } else if (op == kWireMunmap) {
      image.EraseHeapRanges(regs.rdi, regs.rdi + PageUp(regs.rsi));
    } else if (op == kWireMremap) {
      image.EraseHeapRanges(regs.rdi, regs.rdi + PageUp(regs.rsi));
      image.EraseHeapRanges(result, result + PageUp(regs.rdx));
      if (heap) image.heap_ranges[result] = result + PageUp(regs.rdx);
    }
  }

  // Room for a writer record and the largest call record; waits up to 2 s for the collector.
  bool Reserve(uint64_t* head) {
    constexpr unsigned kWords = 2 * kRecordHeaderWords + 2 + kMaxPayloadWords;
    *head = ring_.header->head.load(std::memory_order_relaxed);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    return WaitForSpace(ring_, *head, kWords, &limit_,
                        [&] { return std::chrono::steady_clock::now() > deadline; });
  }

  // Marks the record pending (a full fence: this thread never registers for the collector's
  // membarrier) and reads its key after that.
  uint64_t MarkAndKey(uint64_t head) {
    MarkPending(ring_, pending_mark::Make(self_pid_, self_tid_, false, head),
                /*fence_per_record=*/true);
    return Clock();
  }

 public:
  // Statuses collected while waiting for one thread's exit stop, handled next.
  std::vector<std::pair<pid_t, int>> pending_status_;
  // Processes with a call whose record was lost (entered, never seen to return), in order.
  std::vector<uint32_t> lost_;

 private:
  RingDirectory rings_;
  bool use_tsc_;
  SyscallTracerStats* stats_;
  RingView ring_;
  uint64_t limit_ = 0;
  uint32_t self_pid_ = 0, self_tid_ = 0;
  uint64_t last_writer_ = ~uint64_t{0};
  uint64_t last_pid_origin_ = ~uint64_t{0};
  std::unordered_map<uint32_t, uint32_t> pid_of_;  // tid -> pid
  std::unordered_set<uint32_t> processes_;         // thread group leaders
  std::unordered_map<uint32_t, Image> images_;     // pid -> its current image

 public:
  // Instances that announced themselves (read by the collector's thread).
  std::mutex announced_mutex_;
  std::set<uint32_t> announced_;
};

SyscallTracer::SyscallTracer(const RingDirectory& rings, bool use_tsc, bool enabled)
    : impl_(enabled ? std::make_unique<Impl>(rings, use_tsc, &stats_) : nullptr) {
  if (!enabled) stats_.not_attached_why = "turned off (--no-syscall-tracer)";
}

SyscallTracer::~SyscallTracer() {
  if (thread_.joinable()) thread_.join();
}

bool SyscallTracer::Start(pid_t child) {
  std::promise<bool> attached;
  std::future<bool> result = attached.get_future();
  thread_ = std::thread([this, child, &attached] {
    // ptrace requests must come from the thread that attached: this one does it all.
    tid_.store(Gettid(), std::memory_order_release);
    bool traced = false;
    if (impl_ != nullptr) {
      if (!impl_->ClaimRing()) {
        stats_.not_attached_why = "no free ring for the tracer";
      } else {
        traced = impl_->Seize(child);
      }
    }
    attached.set_value(traced);
    auto on_exit = [this](pid_t pid, int status) {
      std::lock_guard<std::mutex> lock(exits_mutex_);
      exits_.push_back({pid, status, false});
    };
    for (;;) {
      if (impl_ != nullptr && !impl_->lost_.empty()) {  // before the exit that may follow
        std::lock_guard<std::mutex> lock(exits_mutex_);
        for (uint32_t pid : impl_->lost_) exits_.push_back({static_cast<pid_t>(pid), 0, true});
        impl_->lost_.clear();
      }
      if (impl_ != nullptr && !impl_->pending_status_.empty()) {
        auto [tid, status] = impl_->pending_status_.front();
        impl_->pending_status_.erase(impl_->pending_status_.begin());
        impl_->Handle(tid, status, on_exit);
        continue;
      }
      int status = 0;
      const pid_t tid = waitpid(-1, &status, __WALL);
      if (tid < 0) {
        if (errno == EINTR) continue;
        break;  // ECHILD: nobody left
      }
      if (impl_ != nullptr) {
        impl_->Handle(tid, status, on_exit);
      } else if (WIFEXITED(status) || WIFSIGNALED(status)) {
        on_exit(tid, status);
      }
    }
    done_.store(true, std::memory_order_release);
  });
  return result.get();
}

void SyscallTracer::TakeNotices(std::vector<Notice>* exits) {
  std::lock_guard<std::mutex> lock(exits_mutex_);
  exits->insert(exits->end(), exits_.begin(), exits_.end());
  exits_.clear();
}

bool SyscallTracer::Announced(uint32_t instance) const {
  if (impl_ == nullptr) return false;
  std::lock_guard<std::mutex> lock(impl_->announced_mutex_);
  return impl_->announced_.count(instance) != 0;
}

void SyscallTracer::Join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace vmreplay::recorder
