// Turning a WireRecord (what the hooks wrote) into a vmreplay::Event (what the trace holds).
#pragma once

#include <cstdint>

#include "proto/event.h"
#include "recorder/linux/wire_protocol.h"

namespace vmreplay::recorder {

// True for records that are recorded calls (as opposed to control records such as
// kWireProcessStart).
bool IsCallRecord(const WireRecord& record);

// How record clocks become nanoseconds since the session start.
struct ClockConversion {
  uint64_t start_ticks = 0;
  double ns_per_tick = 1.0;
  uint64_t ToNs(uint64_t ticks) const {
    return ticks > start_ticks ? static_cast<uint64_t>((ticks - start_ticks) * ns_per_tick) : 0;
  }
  uint64_t DurationNs(uint64_t ticks) const { return static_cast<uint64_t>(ticks * ns_per_tick); }
};

// REQUIRES: IsCallRecord(record). Overwrites every field a Linux call can record: the ones
// kOpInfo lists for the operation with the record's values, the rest with zero. Fields only
// Windows calls use are left as they were, so one Event can be reused for every record (the
// collector's hot path: no 208-byte clear per call).
void WireToEvent(const WireRecord& record, const ClockConversion& clock, Event* event);

}  // namespace vmreplay::recorder
