#include "recorder/linux/wire_event.h"

namespace vmreplay::recorder {

bool IsCallRecord(const WireRecord& record) {
  return record.op >= kWireMmap && record.op <= kWirePvalloc;
}

Event WireToEvent(const WireRecord& r, const ClockConversion& clock) {
  Event e;
  e.op = static_cast<Op>(r.op);
  e.thread = r.tid;
  e.timestamp_ns = clock.ToNs(r.timestamp);
  e.latency_ns = clock.DurationNs(r.latency);
  switch (r.op) {
    case kWireMmap:
      e.addr = r.addr;
      e.size = r.size;
      e.protect = r.protect;
      e.flags = r.flags;
      e.fd = r.fd;
      e.offset = r.arg;
      e.result = r.result;
      e.error = r.error;
      break;
    case kWireMunmap:
      e.addr = r.addr;
      e.size = r.size;
      e.error = r.error;
      break;
    case kWireMremap:
      e.addr = r.addr;
      e.size = r.size;
      e.new_size = r.arg;
      e.flags = r.flags;
      e.new_addr = r.new_addr;
      e.result = r.result;
      e.error = r.error;
      break;
    case kWireMprotect:
      e.addr = r.addr;
      e.size = r.size;
      e.protect = r.protect;
      e.error = r.error;
      break;
    case kWireMadvise:
      e.addr = r.addr;
      e.size = r.size;
      e.flags = r.flags;
      e.error = r.error;
      break;
    case kWireMalloc:
    case kWireValloc:
    case kWirePvalloc:
      e.size = r.size;
      e.result = r.result;
      e.error = r.error;
      break;
    case kWireCalloc:
      e.count = r.arg;
      e.size = r.size;
      e.result = r.result;
      e.error = r.error;
      break;
    case kWireRealloc:
      e.addr = r.addr;
      e.size = r.size;
      e.result = r.result;
      e.error = r.error;
      break;
    case kWireFree:
      e.addr = r.addr;
      break;
    case kWirePosixMemalign:
    case kWireAlignedAlloc:
    case kWireMemalign:
      e.alignment = r.arg;
      e.size = r.size;
      e.result = r.result;
      e.error = r.error;
      break;
    default:
      e.op = Op::kUnknown;
      break;
  }
  return e;
}

}  // namespace vmreplay::recorder
