// The shared-memory ABI between the preload library (the writers) and the collector.
//
// Plain words only: the hooked path writes a few 64-bit words into its thread's ring and never
// encodes, allocates or formats anything. The collector merges the rings and writes protobuf
// off the hooked path (see record_merger.h and call_record.h).
//
// The shared segment is laid out as:
//   [SessionHeader, kSessionHeaderBytes]
//   [ThreadRingHeader x (ring_count + shared_ring_count)]   (thread_ring.h)
//   [ring data: ring_words 64-bit words per ring, same order]
// Both sides include this header; the layout is versioned by kWireVersion.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vmreplay::recorder {

// 3: one ring per thread, records of 64-bit words ordered by their key (the session clock).
// 4: the address-space snapshot (kWireMapping, kWireMappingName).
// 5: the writer record's origin (records of the system-call tracer).
// 6: SessionHeader::timing.
inline constexpr uint32_t kWireVersion = 6;
inline constexpr uint64_t kSessionMagic = 0x31534552444D5256ull;  // "VMRDRES1"

// Environment variable naming the shared segment (a POSIX shm name, "/vmrecord.<pid>.<n>").
inline constexpr char kRingEnvVar[] = "VMRECORD_RING";

// Set (to "1") by vmrecord when its system-call tracer is attached to the command: only then
// does the preload install its seccomp filter (syscall_filter.h), whose SECCOMP_RET_TRACE
// would fail the traced calls with ENOSYS if no tracer were there.
inline constexpr char kTracerEnvVar[] = "VMRECORD_TRACER";

// How a process image introduces itself to the tracer: prctl(kAnnounceOption, instance,
// guard TLS offset, own-syscall begin, own-syscall end), which the filter always traces and
// the tracer answers with kAnnounceAck (without our filter the kernel fails it with EINVAL).
// SECCOMP_RET_DATA of the filter's verdicts:
inline constexpr unsigned long kAnnounceOption = 0x564D5243;  // "VMRC"
inline constexpr uint16_t kFilterDataCall = 1;                // an mmap-family call to record
inline constexpr uint16_t kFilterDataAnnounce = 2;            // the announcement
// What the tracer makes the announcement return (it skips the call): a filter of ours is there.
inline constexpr uint64_t kAnnounceAck = 0x564D52434F4Bull;  // "VMRCOK"

// Wire operation codes: the values of vmreplay::Op for recorded calls, plus wire-only
// control records that never become trace events.
enum WireOp : uint8_t {
  kWireMmap = 15,
  kWireMunmap = 16,
  kWireMremap = 17,
  kWireMprotect = 18,
  kWireMadvise = 19,
  kWireMalloc = 20,
  kWireCalloc = 21,
  kWireRealloc = 22,
  kWireFree = 23,
  kWirePosixMemalign = 24,
  kWireAlignedAlloc = 25,
  kWireMemalign = 26,
  kWireValloc = 27,
  kWirePvalloc = 28,
  // A process image started recording: a new exec'd image attached, or a fork child took over
  // its parent's mapping. Payload: parent instance (0 for an exec), parent pid (getppid()).
  // Always the first record of its instance.
  kWireProcessStart = 200,
  // The next piece of an exec'd image's command line (/proc/self/cmdline, NUL-separated), sent
  // right after its kWireProcessStart: at most kCommandLineChunkBytes bytes in the payload
  // words, the byte count in the header's error field.
  kWireCommandLine = 201,
  // Who writes the records that follow in this ring: payload (instance << 32 | tid),
  // (origin << 32 | pid). The first record of a ring's every new writer (see
  // ThreadRingHeader::last_writer). origin is a CallOrigin (proto/event.h): 0 in the preload's
  // rings; vmrecord's system-call tracer writes the calls it saw on a thread's behalf.
  kWireWriter = 202,
  // One line of /proc/self/maps, sent by a process image right after its kWireProcessStart (and
  // command line), before any call: payload start, end, prot | shared << 32, offset, inode.
  // The trace header's initial_mappings.
  kWireMapping = 203,
  // The next piece of that mapping's path, like kWireCommandLine.
  kWireMappingName = 204,
};
inline constexpr size_t kCommandLineChunkBytes = 24;
// At most this much of a command line is sent.
inline constexpr size_t kCommandLineMaxBytes = 4096;

// ---- Records ---------------------------------------------------------------------------------
// A record is 2 + payload 64-bit words:
//   word 0  key: the session clock at the record's place in the trace order. Allocations and
//           everything else take it after the call returns (what they return exists only then);
//           free and munmap take it before the call, so that a release is ordered before any
//           allocation another thread makes of the same memory once it is released.
//   word 1  op:8 | payload words:8 | error:16 | latency:32
//           error: errno, or posix_memalign's return value (< 4096), 0 on success.
//           latency: the call's duration in session clock ticks; kLatencyInPayload when it
//           does not fit, and then the latency is one more payload word, the last.
//   payload, per op:
//     mmap            addr, size, prot | flags << 32, fd (int32 sign-extended), offset, result
//     munmap          addr, size
//     mremap          addr, old size, new size, flags, new addr, result
//     mprotect        addr, size, prot
//     madvise         addr, size, advice
//     malloc, valloc, pvalloc                   size, result
//     calloc          count, size, result
//     realloc         addr, size, result
//     free            addr
//     posix_memalign, aligned_alloc, memalign   alignment, size, result (posix_memalign: *memptr)
//     process start   parent instance, parent pid
//     command line    up to 3 words of bytes
//     writer          instance << 32 | tid, origin << 32 | pid
//     mapping         start, end, prot | shared << 32, offset, inode
//     mapping name    up to 3 words of bytes
// The entry timestamp of a call is key - latency for calls keyed after they return, the key
// itself for free and munmap.
inline constexpr uint32_t kLatencyInPayload = 0xFFFFFFFFu;
inline constexpr unsigned kRecordHeaderWords = 2;
inline constexpr unsigned kMaxPayloadWords = 7;  // mmap's 6 plus a long latency
inline constexpr unsigned kMaxRecordWords = kRecordHeaderWords + kMaxPayloadWords;

// Whether a call takes its key before the call (releases) or after it (everything else).
constexpr bool KeyedBeforeCall(uint8_t op) { return op == kWireFree || op == kWireMunmap; }

constexpr uint64_t RecordHeaderWord(uint8_t op, unsigned payload_words, uint32_t error,
                                    uint32_t latency32) {
  return uint64_t{op} | uint64_t{payload_words} << 8 | uint64_t{error & 0xFFFFu} << 16 |
         uint64_t{latency32} << 32;
}
constexpr uint8_t HeaderOp(uint64_t w) { return static_cast<uint8_t>(w); }
constexpr unsigned HeaderPayloadWords(uint64_t w) { return static_cast<unsigned>(w >> 8) & 0xFF; }
constexpr uint32_t HeaderError(uint64_t w) { return static_cast<uint32_t>(w >> 16) & 0xFFFF; }
constexpr uint32_t HeaderLatency(uint64_t w) { return static_cast<uint32_t>(w >> 32); }

// ---- Session ---------------------------------------------------------------------------------

// What record keys and latencies count: the invariant TSC where the collector found one
// (reading it costs a few ns, a vDSO clock_gettime several times more), else CLOCK_MONOTONIC
// nanoseconds. The collector converts with start_ticks and ns_per_tick.
enum SessionClock : uint32_t { kClockMonotonic = 0, kClockTsc = 1 };

// How a writer's "record in progress" mark (ThreadRingHeader::pending) is ordered before the
// key it then reads, which the collector's watermark relies on (record_merger.h):
//  - kFenceMembarrier: a plain store. The collector runs membarrier(GLOBAL_EXPEDITED) before it
//    reads the marks, which makes every registered writer's earlier stores visible (or
//    interrupts it before the store); writers register at attach.
//  - kFencePerRecord: an atomic exchange (a full fence) per record, for kernels without it.
enum SessionFence : uint32_t { kFencePerRecord = 0, kFenceMembarrier = 1 };

// What a hooked call reads of the clock:
//  - kTimingFull: the entry time and, after an lfence, the key (two reads: a timestamp and a
//    latency for every call; the key is ordered after the call's loads, see README "One order");
//  - kTimingCoarse: one plain clock read after the call, its key and timestamp; no latency (0).
//    Without the lfence the read may be taken before the call's last loads complete, so an
//    allocation can be keyed a few cycles before a release it observed in another thread.
enum SessionTiming : uint32_t { kTimingFull = 0, kTimingCoarse = 1 };

// The start of the shared segment: written once by the collector before the command starts,
// read by every process that attaches. Only the atomics change afterwards.
struct SessionHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t collector_pid;  // writers stop waiting for ring space once this process is gone
  uint64_t start_mono_ns;  // CLOCK_MONOTONIC at session start; event timestamps are rebased
  uint32_t clock;          // SessionClock
  uint32_t fence;          // SessionFence
  uint32_t timing;         // SessionTiming
  // The system-call tracer's thread id (0: none), written before the command execs: a process
  // installs the seccomp filter only when its /proc/self/status TracerPid is this one.
  uint32_t tracer_tid;
  uint64_t start_ticks;  // the session clock at start_mono_ns
  double ns_per_tick;
  uint64_t segment_bytes;
  uint64_t rings_offset;                // byte offset of the ThreadRingHeader array
  uint64_t data_offset;                 // byte offset of ring 0's data
  uint64_t ring_words;                  // data words per ring, a power of two
  uint32_t ring_count;                  // rings a thread can own, indices [0, ring_count)
  uint32_t shared_ring_count;           // rings shared under a lock, after them
  std::atomic<uint32_t> next_instance;  // instance ids handed out to process images, from 1
  // One more than the highest owned-ring index ever claimed: the collector reads no further.
  std::atomic<uint32_t> rings_used;
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);
inline constexpr size_t kSessionHeaderBytes = 4096;
static_assert(sizeof(SessionHeader) <= kSessionHeaderBytes);

}  // namespace vmreplay::recorder
