// Deterministic streams of realistic events for tests and benchmarks: a CLR host's traffic
// (GC reserve/commit/decommit, host malloc, queries, load polls) and a Linux process's traffic.
// Addresses are coherent: frees and decommits refer to what was allocated.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "proto/event.h"

namespace vmreplay::testing {

enum class Mix { kClrHost, kLinux, kEveryOp };

class EventMix {
 public:
  EventMix(Mix mix, uint64_t seed);
  Event Next();
  // For kEveryOp: DebugAlloc events use this file id (a caller-interned string); default 1.
  void set_file_id(uint32_t id) { file_id_ = id; }
  // For kClrHost: bounds the live set. Once `n` reservations (heap blocks) are live, an event
  // that would reserve (allocate) releases (frees) a random live one instead, so the live set,
  // and what a replayer must remember, stays bounded however long the stream runs. 0 (the
  // default) leaves the stream unchanged: reservations and blocks grow with its length.
  void set_max_live(size_t n) { max_live_ = n; }

 private:
  Event Base(Op op);
  Event NextClr();
  Event ClrRelease();
  Event NextLinux();
  Event NextAnyOp();
  uint64_t PickLive(std::vector<uint64_t>& live, bool remove);

  Mix mix_;
  std::mt19937_64 rng_;
  uint64_t now_ = 0;
  uint64_t next_address_ = 0x7ff600000000;
  uint64_t next_heap_ = 0x1d40000;
  uint32_t file_id_ = 1;
  size_t max_live_ = 0;
  std::vector<uint64_t> reservations_;
  std::vector<uint64_t> blocks_;
  std::pair<uint64_t, uint64_t> last_commit_{0, 0};  // kClrHost: {its reservation, address}
};

std::vector<Event> MakeEvents(Mix mix, uint64_t seed, size_t count);

}  // namespace vmreplay::testing
