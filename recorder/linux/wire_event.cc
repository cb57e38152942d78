#include "recorder/linux/wire_event.h"

namespace vmreplay::recorder {

bool IsCallRecord(const WireRecord& record) {
  return record.op >= kWireMmap && record.op <= kWirePvalloc;
}

void WireToEvent(const WireRecord& r, const ClockConversion& clock, Event* e) {
  // Each Event field a Linux call uses has one wire field; `arg` carries whichever of offset,
  // new_size, count and alignment the operation has, so the operation's field mask is all it
  // takes to pick the values.
  const FieldMask fields = kOpInfo[r.op].fields;
  const auto pick = [fields](Field f, uint64_t value) {
    return (fields & Bit(f)) != 0 ? value : uint64_t{0};
  };
  e->op = static_cast<Op>(r.op);
  e->thread = r.tid;
  e->timestamp_ns = clock.ToNs(r.timestamp);
  e->latency_ns = clock.DurationNs(r.latency);
  e->addr = pick(Field::k_addr, r.addr);
  e->size = pick(Field::k_size, r.size);
  e->flags = static_cast<uint32_t>(pick(Field::k_flags, r.flags));
  e->protect = static_cast<uint32_t>(pick(Field::k_protect, r.protect));
  e->new_size = pick(Field::k_new_size, r.arg);
  e->new_addr = pick(Field::k_new_addr, r.new_addr);
  e->count = pick(Field::k_count, r.arg);
  e->alignment = pick(Field::k_alignment, r.arg);
  e->fd = (fields & Bit(Field::k_fd)) != 0 ? r.fd : 0;
  e->offset = pick(Field::k_offset, r.arg);
  e->result = pick(Field::k_result, r.result);
  e->error = static_cast<uint32_t>(pick(Field::k_error, r.error));
}

}  // namespace vmreplay::recorder
