// vmrecord -o trace.pb [--ring-kb N] [--rings N] [--fence-per-record]
//          [--zstd-level L | --no-compress] -- CMD ARGS...
// Records CMD's virtual-memory and heap calls; exits with CMD's exit code.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "recorder/linux/collector.h"
#include "recorder/linux/launcher.h"

#ifndef VMREPLAY_VERSION
#define VMREPLAY_VERSION "0.0.0"
#endif

namespace {

constexpr char kUsage[] =
    "usage: vmrecord -o TRACE.pb [options] -- COMMAND [ARGS...]\n"
    "Runs COMMAND with libvmrecord_preload.so and records its mmap/munmap/mremap/mprotect/\n"
    "madvise and malloc-family calls. Fork and exec children are followed: each further\n"
    "process image goes to TRACE.<pid>.pb. The exit code is COMMAND's (128+N if killed by\n"
    "signal N).\n"
    "  -o PATH             trace of COMMAND itself\n"
    "  --ring-kb N         each thread's ring in KiB (default 2048); a full ring makes its\n"
    "                      thread wait, nothing is dropped\n"
    "  --rings N           threads that get a ring of their own (default 128); the others\n"
    "                      share 4 rings under a lock\n"
    "  --fence-per-record  writers fence each record instead of the collector fencing them\n"
    "                      with membarrier(2) (the fallback where membarrier is missing)\n"
    "  --zstd-level L      chunk compression level while recording (default 1; negative =\n"
    "                      faster)\n"
    "  --no-compress       write uncompressed chunks\n"
    "  --timing=coarse     one plain clock read per hooked call: timestamps, no latencies\n"
    "                      (and no lfence before the key; default --timing=full)\n"
    "  --timing=compact    --timing=coarse with timestamps in 1 us steps (a smaller trace)\n"
    "  --no-syscall-tracer record only the calls made through the symbol table, not the\n"
    "                      mmap-family system calls glibc and ld.so make themselves (those\n"
    "                      need ptrace and a seccomp filter; see recorder/linux/README.md)\n"
    "  --version           print the version\n";

}  // namespace

int main(int argc, char** argv) {
  vmreplay::recorder::CollectorOptions options;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    } else if ((arg == "-o" || arg == "--output") && i + 1 < argc) {
      options.output_path = argv[++i];
    } else if (arg == "--ring-kb" && i + 1 < argc) {
      options.ring_bytes = std::strtoull(argv[++i], nullptr, 10) << 10;
    } else if (arg == "--rings" && i + 1 < argc) {
      options.rings = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--fence-per-record") {
      options.fence_per_record = true;
    } else if (arg == "--zstd-level" && i + 1 < argc) {
      options.zstd_level = std::atoi(argv[++i]);
    } else if (arg == "--no-compress") {
      options.compress = false;
    } else if (arg == "--timing=coarse" || arg == "--timing=full" || arg == "--timing=compact") {
      options.coarse_timing = arg != "--timing=full";
      options.time_precision_ns = arg == "--timing=compact" ? 1000 : 1;
    } else if (arg == "--no-syscall-tracer") {
      options.trace_syscalls = false;
    } else if (arg == "--version") {
      std::printf("vmrecord %s (trace format 1)\n", VMREPLAY_VERSION);
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "vmrecord: unexpected argument '%s'\n%s", argv[i], kUsage);
      return 2;
    }
  }
  for (; i < argc; ++i) options.command.push_back(argv[i]);
  if (options.output_path.empty() || options.command.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  options.preload_path = vmreplay::recorder::PreloadNextToExecutable();

  vmreplay::recorder::RecordingResult result;
  const vmreplay::Status status = vmreplay::recorder::RecordCommand(options, &result);
  if (!result.ring_note.empty()) std::fprintf(stderr, "%s\n", result.ring_note.c_str());
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.message().c_str());
    return result.exit_code != 0 ? result.exit_code : 1;
  }
  std::fprintf(stderr, "vmrecord: %llu events (%llu dropped) in %zu trace(s), first %s\n",
               static_cast<unsigned long long>(result.events),
               static_cast<unsigned long long>(result.dropped_events), result.trace_paths.size(),
               result.trace_paths.empty() ? "(none)" : result.trace_paths[0].c_str());
  const vmreplay::recorder::SyscallTracerStats& t = result.tracer;
  if (t.attached) {
    std::fprintf(
        stderr,
        "vmrecord: system calls glibc and ld.so made themselves: %llu recorded (libc %llu, "
        "heap %llu, loader %llu, other %llu) in %llu image(s); %llu before a preload "
        "started, not recorded\n",
        static_cast<unsigned long long>(t.RecordedTotal()),
        static_cast<unsigned long long>(t.recorded[1]),
        static_cast<unsigned long long>(t.recorded[2]),
        static_cast<unsigned long long>(t.recorded[3]),
        static_cast<unsigned long long>(t.recorded[4]), static_cast<unsigned long long>(t.images),
        static_cast<unsigned long long>(t.before_start));
    if (t.dropped != 0) {
      std::fprintf(stderr, "vmrecord: warning: %llu of them lost (no ring space for 2 s)\n",
                   static_cast<unsigned long long>(t.dropped));
    }
  } else {
    std::fprintf(stderr,
                 "vmrecord: only hooked calls recorded: the system-call tracer is off (%s)\n",
                 t.not_attached_why.c_str());
  }
  if (result.term_signal != 0) {
    std::fprintf(stderr, "vmrecord: the command was killed by signal %d (%s)\n", result.term_signal,
                 strsignal(result.term_signal));
  }
  if (result.late_mappings != 0) {
    std::fprintf(stderr,
                 "vmrecord: warning: %llu lines of an address-space snapshot came after the "
                 "trace's header was written and are not in it\n",
                 static_cast<unsigned long long>(result.late_mappings));
  }
  if (result.dropped_events != 0) {
    std::fprintf(stderr,
                 "vmrecord: %llu dropped: calls in progress when their thread or process died, "
                 "whose outcome was never seen (counted in each trace's footer)\n",
                 static_cast<unsigned long long>(result.dropped_events));
  }
  std::fprintf(stderr, "vmrecord: times: command exited %.3f s, traces written %.3f s\n",
               result.command_seconds, result.written_seconds);
  if (result.late_records != 0) {
    std::fprintf(stderr, "vmrecord: warning: %llu records came out of key order\n",
                 static_cast<unsigned long long>(result.late_records));
  }
  if (!result.corruption.empty()) {
    std::fprintf(stderr,
                 "vmrecord: warning: the recorded program overwrote its ring (%s); %llu words "
                 "unreadable\n",
                 result.corruption.c_str(),
                 static_cast<unsigned long long>(result.unreadable_words));
  }
  return result.exit_code;
}
