#include "traces/synth/host_heaps.h"

#include <algorithm>
#include <cmath>

namespace vmreplay::synth {
namespace {

struct Site {
  const char* file;
  int32_t line;
};
// Where the CLR (clr.dll, .NET Framework 4.x sources) allocates through the host malloc.
constexpr Site kJitSites[] = {{"jitinterface.cpp", 11722},
                              {"jitinterface.cpp", 3120},
                              {"compiler.cpp", 1879},
                              {"codeman.cpp", 2446},
                              {"jithelpers.cpp", 602}};
constexpr Site kLoaderSites[] = {{"loaderheap.cpp", 1020}, {"class.cpp", 4211},
                                 {"methodtable.cpp", 788}, {"ceeload.cpp", 3390},
                                 {"clsload.cpp", 1507},    {"stublink.cpp", 962}};
constexpr uint64_t kArenaPage = 64 * 1024;

}  // namespace

void HostHeaps::Step(ClrProcess* p, uint64_t tid, uint64_t dt_ns) {
  // Methods per second: a start-up burst decaying with a 2 s time constant, then a trickle.
  const double t_s = static_cast<double>(p->now()) / 1e9;
  const double rate = shape_.burst_methods_per_s * std::exp(-t_s / shape_.burst_time_constant_s) +
                      shape_.steady_methods_per_s;
  carry_ += rate * static_cast<double>(dt_ns) / 1e9;
  while (carry_ >= 1.0 && !p->done()) {
    carry_ -= 1.0;
    CompileMethod(p, tid);
    if (p->rng().Chance(0.4)) LoadType(p, tid);
  }
}

void HostHeaps::CompileMethod(ClrProcess* p, uint64_t tid) {
  Random& r = p->rng();
  ++methods_;
  std::vector<uint64_t> scratch;
  const uint64_t pages = r.Range(shape_.arena_pages_min, shape_.arena_pages_max);
  for (uint64_t i = 0; i < pages; ++i) {
    scratch.push_back(p->HostAlloc(tid, kArenaPage, p->Level()));
  }
  const uint64_t blocks = 2 + static_cast<uint64_t>(r.Exponential(shape_.blocks_mean));
  for (uint64_t i = 0; i < blocks && i < 64; ++i) {
    const uint64_t size = std::clamp<uint64_t>(
        static_cast<uint64_t>(r.LogNormal(shape_.block_median, shape_.block_sigma)), 8, 256 * 1024);
    if (r.Chance(shape_.debug_alloc_share)) {
      const Site& s = kJitSites[r.Range(0, std::size(kJitSites) - 1)];
      scratch.push_back(p->HostAlloc(tid, size, p->Level(), s.file, s.line));
    } else {
      scratch.push_back(p->HostAlloc(tid, size, p->Level()));
    }
  }
  // The compilation itself (tens to hundreds of microseconds), then the arena is dropped.
  p->Sleep(static_cast<uint64_t>(r.LogNormal(80'000.0, 0.8)));
  for (auto it = scratch.rbegin(); it != scratch.rend(); ++it) p->HostFree(tid, *it);
}

void HostHeaps::LoadType(ClrProcess* p, uint64_t tid) {
  Random& r = p->rng();
  const uint64_t blocks = 1 + r.Range(0, 5);
  for (uint64_t i = 0; i < blocks; ++i) {
    const uint64_t size =
        std::clamp<uint64_t>(static_cast<uint64_t>(r.LogNormal(100.0, 0.9)), 16, 64 * 1024);
    const Site& s = kLoaderSites[r.Range(0, std::size(kLoaderSites) - 1)];
    const uint32_t level = p->Level(shape_.loader_lock_level);
    loader_live_.push_back(shape_.debug_alloc_share > 0
                               ? p->HostAlloc(tid, size, level, s.file, s.line)
                               : p->HostAlloc(tid, size, level));
  }
  // A few loader blocks die (collectible types, temporary signatures); all the new ones, once
  // the cap is reached.
  const bool capped = shape_.loader_blocks_max != 0;
  while (capped && loader_live_.size() > shape_.loader_blocks_max) {
    const size_t i = r.Range(0, loader_live_.size() - 1);
    p->HostFree(tid, loader_live_[i]);
    loader_live_[i] = loader_live_.back();
    loader_live_.pop_back();
  }
  if (!capped && loader_live_.size() > 64 && r.Chance(0.1)) {
    const size_t i = r.Range(0, loader_live_.size() - 1);
    p->HostFree(tid, loader_live_[i]);
    loader_live_[i] = loader_live_.back();
    loader_live_.pop_back();
  }
}

}  // namespace vmreplay::synth
