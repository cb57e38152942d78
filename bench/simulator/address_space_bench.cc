// Throughput of AddressSpace on realistic operation mixes (operations per second on one core).
//
// BM_GcMix replays a fixed, seeded sequence shaped like a CLR garbage-collected heap and its
// loader heaps: a few thousand live reservations (64 KiB .. 16 MiB), commits growing and
// decommits shrinking each reservation's committed prefix, protection changes, MEM_RESET,
// re-commits of committed pages, VirtualQuery probes, and reservations created and released.
// The sequence is generated once (its addresses come from the simulator's deterministic
// placement), then replayed on a fresh AddressSpace per iteration; every call must succeed.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "simulator/address_space.h"
#include "simulator/posix_constants.h"
#include "simulator/win32_constants.h"

namespace vmreplay::sim {
namespace {

using namespace vmreplay::win32;  // NOLINT: constants only.

enum class Kind : uint8_t { kReserve, kAlloc, kFree, kProtect, kQuery };

struct Op {
  Kind kind;
  uint32_t type;  // Allocation / free type, or protection for kProtect.
  uint32_t protect;
  uint64_t address;
  uint64_t size;
};

struct Reservation {
  uint64_t base;
  uint64_t size;
  uint64_t committed;  // Committed prefix.
};

// `burst_mean`: mean number of consecutive operations aimed at the same reservation. 1 picks a
// uniformly random reservation for every operation (no locality: a stress case for the lookup
// structure); real GC traces work on one segment at a time (allocation commits the ephemeral
// segment page after page, a GC decommits and re-protects segment by segment), modelled by
// bursts with a geometric length of mean 8.
// Percentages of each operation kind (summing to 100); a protection toggle emits two calls.
struct Mix {
  unsigned grow, shrink, query, protect, recommit_or_reset, small_reserve, release, reserve;
};
// Every kind in force: a stress mix for the lookup and free-space structures.
constexpr Mix kStressMix{22, 12, 28, 10, 8, 6, 6, 8};
// Closer to a CLR trace: commits and decommits of GC segments dominate, MEM_RESET and re-commits
// follow, VirtualQuery is occasional, and reservations / protection changes are rare.
constexpr Mix kClrMix{35, 25, 12, 2, 22, 2, 1, 1};

std::vector<Op> MakeGcMix(size_t count, size_t live_target, double burst_mean, const Mix& mix) {
  std::mt19937_64 rng(20240601);
  AddressSpace space(AddressSpaceConfig::Win64());
  std::vector<Op> ops;
  ops.reserve(count);
  std::vector<Reservation> live;
  auto emit = [&](const Op& op) {
    ops.push_back(op);
    switch (op.kind) {
      case Kind::kReserve:
        return space.VirtualAlloc(0, op.size, op.type, op.protect).address;
      case Kind::kAlloc:
        return space.VirtualAlloc(op.address, op.size, op.type, op.protect).address;
      case Kind::kFree:
        space.VirtualFree(op.address, op.size, op.type);
        return uint64_t{0};
      case Kind::kProtect: {
        uint32_t old;
        space.VirtualProtect(op.address, op.size, op.protect, &old);
        return uint64_t{0};
      }
      case Kind::kQuery: {
        MemoryBasicInformation info;
        space.VirtualQuery(op.address, &info, nullptr);
        return uint64_t{0};
      }
    }
    return uint64_t{0};
  };
  auto reserve = [&]() {
    const uint64_t size = uint64_t{0x10000} << (rng() % 9);  // 64 KiB .. 16 MiB.
    const uint64_t base = emit(Op{Kind::kReserve, kMemReserve, kPageReadWrite, 0, size});
    live.push_back(Reservation{base, size, 0});
  };
  while (live.size() < live_target) reserve();  // Warm-up, replayed as well.
  const uint64_t chunk = 0x2000;
  std::geometric_distribution<int> burst(1.0 / burst_mean);
  size_t current = 0;
  int remaining = 0;
  while (ops.size() < count) {
    if (remaining-- <= 0 || current >= live.size()) {
      current = rng() % live.size();
      remaining = burst(rng);
    }
    Reservation& r = live[current];
    unsigned dice = static_cast<unsigned>(rng() % 100);
    auto take = [&dice](unsigned share) {
      if (dice < share) return true;
      dice -= share;
      return false;
    };
    if (take(mix.grow)) {  // Grow the committed prefix.
      if (r.committed + chunk <= r.size) {
        emit(Op{Kind::kAlloc, kMemCommit, kPageReadWrite, r.base + r.committed, chunk});
        r.committed += chunk;
      }
    } else if (take(mix.shrink)) {  // Shrink it (GC decommit).
      if (r.committed >= chunk) {
        r.committed -= chunk;
        emit(Op{Kind::kFree, kMemDecommit, 0, r.base + r.committed, chunk});
      }
    } else if (take(mix.query)) {  // Probe.
      emit(Op{Kind::kQuery, 0, 0, r.base + rng() % r.size, 0});
    } else if (take(mix.protect)) {  // Toggle protection of a committed page and back.
      if (r.committed >= 0x1000) {
        const uint64_t page = r.base + (rng() % (r.committed / 0x1000)) * 0x1000;
        emit(Op{Kind::kProtect, 0, kPageReadOnly, page, 0x1000});
        emit(Op{Kind::kProtect, 0, kPageReadWrite, page, 0x1000});
      }
    } else if (take(mix.recommit_or_reset)) {  // Re-commit committed pages, or reset them.
      if (r.committed >= chunk) {
        const uint32_t type = rng() % 2 ? kMemCommit : kMemReset;
        emit(Op{Kind::kAlloc, type, kPageReadWrite, r.base, chunk});
      }
    } else if (take(mix.small_reserve)) {  // Small loader-heap style reserve+commit.
      const uint64_t base =
          emit(Op{Kind::kReserve, kMemReserve | kMemCommit, kPageReadWrite, 0, 0x10000});
      live.push_back(Reservation{base, 0x10000, 0x10000});
    } else if (take(mix.release)) {  // Release a reservation.
      if (live.size() > live_target / 2) {
        const size_t i = rng() % live.size();
        emit(Op{Kind::kFree, kMemRelease, 0, live[i].base, 0});
        live[i] = live.back();
        live.pop_back();
      }
    } else {
      if (live.size() < live_target * 2) reserve();
    }
  }
  return ops;
}

// Applies `ops`; returns the number of failed calls (must be 0).
uint64_t Replay(AddressSpace& space, const std::vector<Op>& ops) {
  uint64_t failures = 0;
  uint64_t index = 0;
  for (const Op& op : ops) {
    space.set_event_index(index++);
    switch (op.kind) {
      case Kind::kReserve:
        failures += space.VirtualAlloc(0, op.size, op.type, op.protect).error != 0;
        break;
      case Kind::kAlloc:
        failures += space.VirtualAlloc(op.address, op.size, op.type, op.protect).error != 0;
        break;
      case Kind::kFree:
        failures += space.VirtualFree(op.address, op.size, op.type) != 0;
        break;
      case Kind::kProtect: {
        uint32_t old;
        failures += space.VirtualProtect(op.address, op.size, op.protect, &old) != 0;
        break;
      }
      case Kind::kQuery: {
        MemoryBasicInformation info;
        uint32_t error;
        failures += space.VirtualQuery(op.address, &info, &error) == 0;
        benchmark::DoNotOptimize(info);
        break;
      }
    }
  }
  return failures;
}

void BM_GcMix(benchmark::State& state) {
  const std::vector<Op> ops =
      MakeGcMix(1 << 20, static_cast<size_t>(state.range(0)), static_cast<double>(state.range(1)),
                state.range(2) == 0 ? kStressMix : kClrMix);
  uint64_t failures = 0;
  uint64_t regions = 0;
  for (auto _ : state) {
    AddressSpace space(AddressSpaceConfig::Win64());
    failures += Replay(space, ops);
    regions = space.metrics().region_count;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ops.size()));
  state.counters["failures"] = static_cast<double>(failures);
  state.counters["final_regions"] = static_cast<double>(regions);
  if (failures != 0) state.SkipWithError("replayed calls failed");
}
// Args: live reservations, mean burst length (1 = no locality), mix (0 = stress, 1 = CLR-like).
BENCHMARK(BM_GcMix)
    ->ArgNames({"live", "burst", "mix"})
    ->Args({1000, 1, 0})
    ->Args({4000, 1, 0})
    ->Args({4000, 8, 0})
    ->Args({4000, 1, 1})
    ->Args({4000, 8, 1})
    ->Unit(benchmark::kMillisecond);

// Queries only, over a populated space: the cost of one VirtualQuery.
void BM_Query(benchmark::State& state) {
  const std::vector<Op> ops = MakeGcMix(1 << 18, 4000, 1, kStressMix);
  AddressSpace space(AddressSpaceConfig::Win64());
  Replay(space, ops);
  std::vector<uint64_t> probes;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 4096; ++i) probes.push_back(0x10000 + rng() % 0x100000000ull);
  size_t i = 0;
  for (auto _ : state) {
    MemoryBasicInformation info;
    uint32_t error;
    benchmark::DoNotOptimize(space.VirtualQuery(probes[i++ & 4095], &info, &error));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Query);

// Linux-style mix: mmap/munmap of small anonymous mappings, mprotect commit/decommit inside large
// PROT_NONE reservations, madvise(DONTNEED).
void BM_PosixMix(benchmark::State& state) {
  namespace la = vmreplay::linux_abi;
  constexpr int kAnon = la::kMapPrivate | la::kMapAnonymous;
  for (auto _ : state) {
    state.PauseTiming();
    AddressSpace space(AddressSpaceConfig::Linux64());
    std::mt19937_64 rng(99);
    std::vector<uint64_t> arenas;
    for (int i = 0; i < 1000; ++i) {
      arenas.push_back(space.Mmap(0, 64 << 20, la::kProtNone, kAnon | la::kMapNoReserve).address);
    }
    std::vector<std::pair<uint64_t, uint64_t>> small;
    state.ResumeTiming();
    for (int n = 0; n < 200000; ++n) {
      const uint64_t arena = arenas[rng() % arenas.size()];
      const uint64_t off = (rng() % 4096) * 0x4000;
      switch (rng() % 6) {
        case 0:
          space.Mprotect(arena + off, 0x4000, la::kProtRead | la::kProtWrite);
          break;
        case 1:
          space.Madvise(arena + off, 0x4000, la::kMadvDontNeed);
          break;
        case 2:
          space.Mprotect(arena + off, 0x4000, la::kProtNone);
          break;
        case 3: {
          const uint64_t len = 0x1000 << (rng() % 6);
          small.emplace_back(space.Mmap(0, len, la::kProtRead | la::kProtWrite, kAnon).address,
                             len);
          break;
        }
        case 4:
          if (!small.empty()) {
            const size_t i = rng() % small.size();
            space.Munmap(small[i].first, small[i].second);
            small[i] = small.back();
            small.pop_back();
          }
          break;
        default: {
          MemoryBasicInformation info;
          benchmark::DoNotOptimize(space.VirtualQuery(arena + off, &info, nullptr));
        }
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 200000);
}
BENCHMARK(BM_PosixMix)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vmreplay::sim

BENCHMARK_MAIN();
