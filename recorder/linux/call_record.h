// One record as the collector hands it on once the rings are merged (record_merger.h): a
// recorded call or a control record with its writer's identity, and the row accessor the
// collector's column encoder reads it through (see ColumnEncoder::EncodeRows), so that no Event
// is built per call.
#pragma once

#include <cstdint>

#include "proto/event.h"
#include "recorder/linux/wire_protocol.h"

namespace vmreplay::recorder {

// Which fields are meaningful depends on `op`; the others are zero.
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
//   process start:   arg=parent instance, addr=parent pid
//   command line:    size bytes held in arg, new_addr and result, in that order
//   mapping:         addr=start new_addr=end protect flags=shared arg=offset result=inode
//   mapping name:    as command line
struct CallRecord {
  uint64_t timestamp;  // session clock at call entry (see SessionHeader::clock)
  uint64_t latency;    // duration of the real call, in session clock ticks
  uint64_t addr;
  uint64_t size;
  uint64_t arg;  // offset / new_size / count / alignment, per op
  uint64_t new_addr;
  uint64_t result;
  uint32_t pid;       // the writer's process
  uint32_t tid;       // and thread
  uint32_t instance;  // process image id, unique within the session (see kWireProcessStart)
  uint32_t flags;
  uint32_t protect;
  uint32_t error;  // errno, or posix_memalign's return value; 0 on success
  int32_t fd;
  uint8_t op;      // WireOp
  uint8_t origin;  // CallOrigin (proto/event.h): 0 from the preload, set by the syscall tracer
};

// True for records that are recorded calls (as opposed to control records such as
// kWireProcessStart).
inline bool IsCallRecord(const CallRecord& record) {
  return record.op >= kWireMmap && record.op <= kWirePvalloc;
}

// How record clocks become nanoseconds since the session start: ns = (ticks - start_ticks) *
// ns_per_tick (0 before the start), as calibrated by the collector.
struct ClockConversion {
  uint64_t start_ticks = 0;
  double ns_per_tick = 1.0;
};

// That conversion in fixed point (48 fraction bits), for the collector's hot path: it converts
// two clock values per call, and double-to-unsigned conversions took a quarter of its encoding
// time. Within 1 ns of the double product over hours (32 bits were 1 us off).
class FixedClock {
 public:
  explicit FixedClock(const ClockConversion& c)
      : start_ticks_(c.start_ticks),
        mult_(static_cast<uint64_t>(c.ns_per_tick * 281474976710656.0 + 0.5)) {}  // 2^48
  uint64_t ToNs(uint64_t ticks) const {
    return ticks > start_ticks_ ? Scale(ticks - start_ticks_) : 0;
  }
  uint64_t DurationNs(uint64_t ticks) const { return Scale(ticks); }

 private:
  __extension__ using Wide = unsigned __int128;  // GCC and Clang: a 64x64->128 multiply
  uint64_t Scale(uint64_t ticks) const {
    return static_cast<uint64_t>((static_cast<Wide>(ticks) * mult_) >> 48);
  }
  uint64_t start_ticks_;
  uint64_t mult_;
};

// The Event view of call records (REQUIRES IsCallRecord for every row). Each Event field a
// Linux call uses has one wire field; `arg` carries whichever of offset, new_size, count and
// alignment the operation has. The encoder reads only the fields the operation's kOpInfo mask
// lists, so that mapping needs no knowledge of the operation.
struct CallRecordAccess {
  using Row = CallRecord;
  // `precision_ns` > 1: timestamps are rounded down to a multiple of it and latencies to the
  // nearest one (vmrecord --timing=compact), which keeps the trace's order and makes the time
  // columns compress to almost nothing.
  explicit CallRecordAccess(const ClockConversion& conversion, uint64_t precision_ns = 1)
      : clock(conversion), precision(precision_ns) {}
  FixedClock clock;
  uint64_t precision;

  Op op(const CallRecord& r) const { return static_cast<Op>(r.op); }
  uint64_t thread(const CallRecord& r) const { return r.tid; }
  uint64_t timestamp_ns(const CallRecord& r) const {
    const uint64_t ns = clock.ToNs(r.timestamp);
    return precision > 1 ? ns - ns % precision : ns;
  }
  uint64_t latency_ns(const CallRecord& r) const {
    const uint64_t ns = clock.DurationNs(r.latency);
    return precision > 1 ? (ns + precision / 2) / precision * precision : ns;
  }
  template <Field F>
  auto field(const CallRecord& r) const {
    if constexpr (F == Field::k_addr) {
      return r.addr;
    } else if constexpr (F == Field::k_size) {
      return r.size;
    } else if constexpr (F == Field::k_flags) {
      return r.flags;
    } else if constexpr (F == Field::k_protect) {
      return r.protect;
    } else if constexpr (F == Field::k_new_addr) {
      return r.new_addr;
    } else if constexpr (F == Field::k_new_size || F == Field::k_count || F == Field::k_alignment ||
                         F == Field::k_offset) {
      return r.arg;
    } else if constexpr (F == Field::k_fd) {
      return r.fd;
    } else if constexpr (F == Field::k_result) {
      return r.result;
    } else if constexpr (F == Field::k_error) {
      return r.error;
    } else if constexpr (F == Field::k_origin) {
      return uint32_t{r.origin};
    } else {
      return uint64_t{0};  // only Windows calls record it: never read for a call record
    }
  }
};

}  // namespace vmreplay::recorder
