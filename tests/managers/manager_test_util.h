// A manager x platform x heap cell built directly, for the managers' tests: calls go to the
// manager as the engine would make them, and both levels can be inspected after every call.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "replayer/engine/replay_engine.h"
#include "replayer/heaps/heap_backends.h"
#include "replayer/managers/manager.h"
#include "replayer/platforms/platform.h"
#include "replayer/platforms/sim_platform.h"
#include "simulator/posix_constants.h"
#include "simulator/win32_constants.h"

namespace vmreplay::replay::testing {

struct Cell {
  std::unique_ptr<Platform> platform;
  std::unique_ptr<HeapBackend> heap;
  std::unique_ptr<Manager> manager;
  Status status;

  Manager& m() { return *manager; }
  const sim::AddressSpace& sim() const {
    return static_cast<const SimPlatform&>(*platform).space();
  }
};

// `spec` (a --manager value) over the simulator: a 64-bit Win32 address space by default.
inline Cell MakeCell(const std::string& spec, bool windows = true,
                     const std::string& placement = "bottom-up", uint64_t commit_limit = 0) {
  Cell c;
  PlatformOptions po;
  po.windows = windows;
  po.placement = placement;
  po.commit_limit = commit_limit;
  if (!windows) po.allocation_granularity = po.page_size;
  c.status = MakePlatform("sim", po, &c.platform);
  if (!c.status.ok()) return c;
  c.heap = MakeSystemHeap();
  ManagerSpec parsed;
  c.status = ManagerSpec::Parse(spec, &parsed);
  if (!c.status.ok()) return c;
  ManagerContext context{c.platform.get(), c.heap.get(), windows, 1ull << 30};
  c.status = MakeManager(parsed, context, &c.manager);
  return c;
}

inline constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;

// VirtualAlloc shorthands (result address, or 0 with the error in *error).
inline uint64_t Reserve(Manager& m, uint64_t size, uint32_t* error = nullptr, uint32_t level = 0) {
  const VmResult r = m.VirtualAlloc(0, size, win32::kMemReserve, win32::kPageNoAccess, level, 0);
  if (error != nullptr) *error = r.error;
  return r.address;
}
inline uint32_t Commit(Manager& m, uint64_t address, uint64_t size, uint32_t level = 0,
                       uint32_t protect = win32::kPageReadWrite) {
  return m.VirtualAlloc(address, size, win32::kMemCommit, protect, level, 0).error;
}
inline uint32_t Decommit(Manager& m, uint64_t address, uint64_t size) {
  return m.VirtualFree(address, size, win32::kMemDecommit);
}
inline uint32_t Release(Manager& m, uint64_t address) {
  return m.VirtualFree(address, 0, win32::kMemRelease);
}

// The value of a manager figure by name (fails the test when absent).
inline double Figure(const ManagerStats& s, const std::string& name) {
  for (const ManagerFigure& f : s.figures) {
    if (f.name == name) return f.value;
  }
  ADD_FAILURE() << "no manager figure '" << name << "'";
  return -1;
}
inline double Figure(const ReplayMetrics& m, const std::string& name) {
  return Figure(ManagerStats{m.manager_figures, m.notes}, name);
}

inline uint64_t Calls(const PlatformStats& s, const std::string& kind) {
  auto it = s.calls.find(kind);
  return it == s.calls.end() ? 0 : it->second;
}

// Replays a bundled trace (path relative to the source tree) on `manager` over sim.
inline ReplayMetrics ReplayBundled(const std::string& trace, const std::string& manager,
                                   ReplayObserver* observer = nullptr) {
  ReplayOptions o;
  o.manager = manager;
  o.platform = "sim";
  ReplayMetrics m;
  const Status s = ReplayTrace(std::string(VMREPLAY_SOURCE_DIR) + "/" + trace, o, &m, observer);
  EXPECT_TRUE(s.ok()) << trace << " on " << manager << ": " << s.message();
  return m;
}

}  // namespace vmreplay::replay::testing
