// The records the preload library writes into shared memory and the collector reads back.
//
// Plain fixed-size structs only: the hooked path copies one WireRecord into a ring slot and
// never encodes, allocates or formats anything. The collector turns records into
// vmreplay::Event (see wire_event.h) and writes protobuf off the hooked path.
//
// The shared segment is laid out as:
//   [SessionHeader, kSessionHeaderBytes][SharedRingBuffer header + slots]
// Both sides include this header; the layout is versioned by kWireVersion.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vmreplay::recorder {

inline constexpr uint32_t kWireVersion = 2;  // 2: ring slot sequences relative to their lap
inline constexpr uint64_t kSessionMagic = 0x31534552444D5256ull;  // "VMRDRES1"

// Environment variable naming the shared segment (a POSIX shm name, "/vmrecord.<pid>.<n>").
inline constexpr char kRingEnvVar[] = "VMRECORD_RING";

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
  // A process image started recording: a new exec'd image attached to the ring, or a fork
  // child took over its parent's mapping. `arg` holds the parent's instance (0 for an exec),
  // `addr` the parent pid (getppid()). Always the first record of its instance.
  kWireProcessStart = 200,
  // The next piece of an exec'd image's command line (/proc/self/cmdline, NUL-separated),
  // sent right after its kWireProcessStart: `size` bytes (at most kCommandLineChunkBytes)
  // held in the bytes of `arg`, `new_addr` and `result`, in that order.
  kWireCommandLine = 201,
};
inline constexpr size_t kCommandLineChunkBytes = 24;
// At most this much of a command line is sent.
inline constexpr size_t kCommandLineMaxBytes = 4096;

// One call. Which fields are meaningful depends on `op`; the others are zero.
//   mmap:            addr size protect flags fd arg=offset          -> result error
//   munmap:          addr size                                      -> error
//   mremap:          addr size arg=new_size flags new_addr          -> result error
//   mprotect:        addr size protect                              -> error
//   madvise:         addr size flags=advice                         -> error
//   malloc/valloc/pvalloc: size                                     -> result error
//   calloc:          arg=count size                                 -> result error
//   realloc:         addr size                                      -> result error
//   free:            addr
//   posix_memalign:  arg=alignment size -> result=*memptr, error=return value
//   aligned_alloc/memalign: arg=alignment size                      -> result error
struct WireRecord {
  uint64_t timestamp;  // session clock at call entry (see SessionHeader::clock)
  uint64_t latency;    // duration of the real call, in session clock ticks
  uint64_t addr;
  uint64_t size;
  uint64_t arg;  // offset / new_size / count / alignment, per op
  uint64_t new_addr;
  uint64_t result;
  uint32_t pid;       // getpid() of the writer
  uint32_t tid;       // gettid() of the writer
  uint32_t instance;  // process image id, unique within the session (see kWireProcessStart)
  uint32_t flags;
  uint32_t protect;
  uint32_t error;  // errno, or posix_memalign's return value; 0 on success
  int32_t fd;
  uint8_t op;  // WireOp
  uint8_t reserved[3];
};
static_assert(sizeof(WireRecord) == 88, "WireRecord is part of the shared-memory ABI");

// The start of the shared segment: written once by the collector before the command starts,
// read by every process that attaches. Only `next_instance` changes afterwards.
struct SessionHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t collector_pid;  // writers stop waiting for ring space once this process is gone
  uint64_t start_mono_ns;  // CLOCK_MONOTONIC at session start; event timestamps are rebased
  // What WireRecord::timestamp and latency count: the invariant TSC where the collector found
  // one (reading it costs a few ns, a vDSO clock_gettime several times more), else
  // CLOCK_MONOTONIC nanoseconds. The collector converts with start_ticks and ns_per_tick.
  uint32_t clock;  // SessionClock
  uint32_t reserved;
  uint64_t start_ticks;  // the session clock at start_mono_ns
  double ns_per_tick;
  uint64_t ring_offset;                 // byte offset of the ring from the segment start
  uint64_t ring_bytes;                  // bytes available to the ring
  std::atomic<uint32_t> next_instance;  // instance ids handed out to process images, from 1
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);
enum SessionClock : uint32_t { kClockMonotonic = 0, kClockTsc = 1 };
inline constexpr size_t kSessionHeaderBytes = 4096;
static_assert(sizeof(SessionHeader) <= kSessionHeaderBytes);

}  // namespace vmreplay::recorder
