#include "tests/support/event_mix.h"

namespace vmreplay::testing {

EventMix::EventMix(Mix mix, uint64_t seed) : mix_(mix), rng_(seed) {}

uint64_t EventMix::PickLive(std::vector<uint64_t>& live, bool remove) {
  size_t i = rng_() % live.size();
  uint64_t v = live[i];
  if (remove) {
    live[i] = live.back();
    live.pop_back();
  }
  return v;
}

Event EventMix::Base(Op op) {
  Event e;
  e.op = op;
  e.thread = 1000 + rng_() % 4;
  now_ += 50 + rng_() % 2000;
  e.timestamp_ns = now_;
  e.latency_ns = 40 + rng_() % 400;
  return e;
}

Event EventMix::NextClr() {
  const uint64_t r = rng_() % 100;
  const bool blocks_full = max_live_ != 0 && blocks_.size() >= max_live_;
  const bool reservations_full = max_live_ != 0 && reservations_.size() >= max_live_;
  if (!blocks_full && (r < 30 || (r < 55 && blocks_.empty()))) {
    Event e = Base(Op::kHostAlloc);
    e.heap = 1;
    e.size = 16u << (rng_() % 8);
    e.level = static_cast<uint32_t>(rng_() % 3);
    e.result = next_heap_ += e.size + 16;
    blocks_.push_back(e.result);
    return e;
  }
  if (r < 55) {
    Event e = Base(Op::kHostFree);
    e.heap = 1;
    e.addr = PickLive(blocks_, true);
    return e;
  }
  if (r < 62 && reservations_full) return ClrRelease();
  if (r < 62 || reservations_.empty()) {
    Event e = Base(Op::kVirtualAlloc);
    e.size = (1 + rng_() % 64) << 16;
    e.flags = 0x2000;  // MEM_RESERVE
    e.protect = 0x04;
    e.result = next_address_;  // Reservations never overlap: a 64 KiB gap after each.
    next_address_ += e.size + (1u << 16);
    reservations_.push_back(e.result);
    return e;
  }
  if (r < 78) {
    Event e = Base(Op::kVirtualAlloc);
    // Inside the reservation (at least 16 pages): offset up to 7 pages, up to 8 pages long.
    const uint64_t reservation = PickLive(reservations_, false);
    e.addr = reservation + ((rng_() % 8) << 12);
    e.size = (1 + rng_() % 8) << 12;
    e.flags = 0x1000;  // MEM_COMMIT
    e.protect = 0x04;
    e.result = e.addr;
    last_commit_ = {reservation, e.addr};
    return e;
  }
  if (r < 86) {
    Event e = Base(Op::kVirtualFree);
    e.addr = PickLive(reservations_, false) + ((rng_() % 8) << 12);
    e.size = (1 + rng_() % 8) << 12;
    e.flags = 0x4000;  // MEM_DECOMMIT
    return e;
  }
  if (r < 89) return ClrRelease();
  if (r < 94) {
    Event e = Base(Op::kVirtualQuery);
    e.addr = PickLive(reservations_, false) + ((rng_() % 64) << 12);
    e.size = 48;
    e.result = 48;
    e.q_base = e.addr & ~uint64_t{0xfff};
    e.q_alloc_base = e.addr & ~uint64_t{0xffff};
    e.q_alloc_protect = 0x04;
    e.q_region_size = (1 + rng_() % 32) << 12;
    e.q_state = rng_() % 2 ? 0x1000 : 0x2000;
    e.q_protect = e.q_state == 0x1000 ? 0x04 : 0;
    e.q_type = 0x20000;
    return e;
  }
  if (r < 97) {
    Event e = Base(Op::kGetMemoryLoad);
    e.load = static_cast<uint32_t>(20 + rng_() % 60);
    e.avail = (8ull << 30) - (rng_() % (1ull << 30));
    return e;
  }
  Event e = Base(Op::kVirtualProtect);
  // Only committed pages can be protected: the first page of the latest commit (unless a
  // decommit hit it since, which the mix does not track; rare).
  e.addr = last_commit_.second != 0 ? last_commit_.second : PickLive(reservations_, false);
  e.size = 4096;
  e.protect = 0x20;
  e.old_protect = 0x04;
  return e;
}

Event EventMix::ClrRelease() {
  Event e = Base(Op::kVirtualFree);
  e.addr = PickLive(reservations_, true);
  e.flags = 0x8000;  // MEM_RELEASE
  if (e.addr == last_commit_.first) last_commit_ = {0, 0};
  return e;
}

Event EventMix::NextLinux() {
  const uint64_t r = rng_() % 100;
  if (r < 40 || (r < 78 && blocks_.empty())) {
    Event e = Base(r % 7 == 0 ? Op::kCalloc : Op::kMalloc);
    e.size = 8 + (rng_() % 512);
    if (e.op == Op::kCalloc) e.count = 1 + rng_() % 4;
    e.result = next_heap_ += e.size + 16;
    blocks_.push_back(e.result);
    return e;
  }
  if (r < 78) {
    Event e = Base(Op::kFree);
    e.addr = PickLive(blocks_, true);
    return e;
  }
  if (r < 82 && !blocks_.empty()) {  // (with no live block: an mmap, below)
    Event e = Base(Op::kRealloc);
    e.addr = PickLive(blocks_, true);
    e.size = 64 + rng_() % 4096;
    e.result = next_heap_ += e.size + 16;
    blocks_.push_back(e.result);
    return e;
  }
  if (r < 88 || reservations_.empty()) {
    Event e = Base(Op::kMmap);
    e.size = (1 + rng_() % 256) << 12;
    e.protect = rng_() % 3 == 0 ? 0 : 3;
    e.flags = 0x22;  // MAP_PRIVATE | MAP_ANONYMOUS
    e.fd = -1;
    e.result = next_address_;  // Mappings never overlap: a guard page after each.
    next_address_ += e.size + 4096;
    reservations_.push_back(e.result);
    return e;
  }
  if (r < 93) {
    Event e = Base(Op::kMprotect);
    e.addr = PickLive(reservations_, false);
    e.size = (1 + rng_() % 16) << 12;
    e.protect = 3;
    return e;
  }
  if (r < 97) {
    Event e = Base(Op::kMadvise);
    e.addr = PickLive(reservations_, false);
    e.size = (1 + rng_() % 16) << 12;
    e.flags = 4;  // MADV_DONTNEED
    return e;
  }
  Event e = Base(Op::kMunmap);
  e.addr = PickLive(reservations_, true);
  e.size = 4096;
  return e;
}

// Every operation with every field set to varied values, extremes included.
Event EventMix::NextAnyOp() {
  Event e = Base(static_cast<Op>(1 + rng_() % (kOpCount - 1)));
  const FieldMask m = InfoOf(e.op).fields;
  auto pick64 = [&]() -> uint64_t {
    switch (rng_() % 4) {
      case 0:
        return 0;
      case 1:
        return ~uint64_t{0} - rng_() % 3;
      default:
        return rng_() >> (rng_() % 64);
    }
  };
  auto pick32 = [&]() { return static_cast<uint32_t>(pick64()); };
  auto pick_signed = [&]() { return static_cast<int32_t>(pick64()); };
#define VMREPLAY_FILL(name, coding, text)                             \
  if (m & Bit(Field::k_##name)) {                                     \
    using T = decltype(e.name);                                       \
    if constexpr (std::is_same_v<T, uint64_t>) e.name = pick64();     \
    if constexpr (std::is_same_v<T, uint32_t>) e.name = pick32();     \
    if constexpr (std::is_same_v<T, int32_t>) e.name = pick_signed(); \
  }
  VMREPLAY_EVENT_FIELDS(VMREPLAY_FILL)
#undef VMREPLAY_FILL
  if (m & Bit(Field::k_file)) e.file = file_id_;
  if (rng_() % 8 == 0) e.thread = pick64();
  if (rng_() % 8 == 0) e.latency_ns = pick64();
  return e;
}

Event EventMix::Next() {
  switch (mix_) {
    case Mix::kClrHost:
      return NextClr();
    case Mix::kLinux:
      return NextLinux();
    case Mix::kEveryOp:
      return NextAnyOp();
  }
  return NextClr();
}

std::vector<Event> MakeEvents(Mix mix, uint64_t seed, size_t count) {
  EventMix m(mix, seed);
  std::vector<Event> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(m.Next());
  return out;
}

}  // namespace vmreplay::testing
