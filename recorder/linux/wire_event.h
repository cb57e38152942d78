// Reading a WireRecord (what the hooks wrote) as a trace event: the row accessor the
// collector's column encoder uses (see ColumnEncoder::EncodeRows), so no Event is built per call.
#pragma once

#include <cstdint>

#include "proto/event.h"
#include "recorder/linux/wire_protocol.h"

namespace vmreplay::recorder {

// True for records that are recorded calls (as opposed to control records such as
// kWireProcessStart).
bool IsCallRecord(const WireRecord& record);

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
struct WireAccess {
  using Row = WireRecord;
  explicit WireAccess(const ClockConversion& conversion) : clock(conversion) {}
  FixedClock clock;

  Op op(const WireRecord& r) const { return static_cast<Op>(r.op); }
  uint64_t thread(const WireRecord& r) const { return r.tid; }
  uint64_t timestamp_ns(const WireRecord& r) const { return clock.ToNs(r.timestamp); }
  uint64_t latency_ns(const WireRecord& r) const { return clock.DurationNs(r.latency); }
  template <Field F>
  auto field(const WireRecord& r) const {
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
    } else {
      return uint64_t{0};  // only Windows calls record it: never read for a call record
    }
  }
};

}  // namespace vmreplay::recorder
