// Every virtual-memory outcome a synthetic trace records is what a fresh simulator computes when
// the trace is applied to it in layout-faithful mode (the replay engine's `sim` backend), and
// every recorded notification is what the memory-pressure model produces on the way.
#include <cstdio>

#include "gtest/gtest.h"
#include "simulator/address_space.h"
#include "simulator/memory_pressure.h"
#include "simulator/win32_constants.h"
#include "tests/synth/synth_trace_util.h"

namespace vmreplay::synth {
namespace {

struct Mismatches {
  size_t vm_events = 0;
  size_t count = 0;
  std::string first;
  void Add(size_t i, const std::string& what) {
    if (count++ == 0) first = "event " + std::to_string(i) + ": " + what;
  }
};

Mismatches Replay(const ReadTrace& t) {
  sim::AddressSpaceConfig c = sim::AddressSpaceConfig::Win64();
  c.placement = sim::Placement::kLayoutFaithful;
  c.physical_memory = t.header.physical_memory();
  sim::AddressSpace space(c);
  sim::MemoryPressureConfig pc;
  pc.physical_memory = t.header.physical_memory();
  sim::MemoryPressureModel pressure(pc);
  std::vector<uint32_t> expected_notifications, recorded_notifications;
  Mismatches m;
  for (size_t i = 0; i < t.events.size(); ++i) {
    const Event& e = t.events[i];
    space.set_event_index(i);
    bool vm = true;
    switch (e.op) {
      case Op::kVirtualAlloc: {
        const sim::AllocOutcome r =
            space.VirtualAlloc(e.addr, e.size, e.flags, e.protect, e.addr == 0 ? e.result : 0);
        if (r.address != e.result || r.error != e.error) m.Add(i, "VirtualAlloc outcome");
        break;
      }
      case Op::kVirtualFree:
        if (space.VirtualFree(e.addr, e.size, e.flags) != e.error) m.Add(i, "VirtualFree");
        break;
      case Op::kVirtualProtect: {
        uint32_t old = 0;
        const uint32_t err = space.VirtualProtect(e.addr, e.size, e.protect, &old);
        if (err != e.error || (err == 0 && old != e.old_protect)) m.Add(i, "VirtualProtect");
        break;
      }
      case Op::kVirtualQuery: {
        sim::MemoryBasicInformation info;
        uint32_t err = 0;
        const uint64_t bytes = space.VirtualQuery(e.addr, &info, &err);
        const sim::MemoryBasicInformation rec{e.q_base,        e.q_alloc_base, e.q_alloc_protect,
                                              e.q_region_size, e.q_state,      e.q_protect,
                                              e.q_type};
        if (bytes != e.result || err != e.error || !(info == rec)) m.Add(i, "VirtualQuery");
        break;
      }
      case Op::kGetMemoryLoad: {
        const sim::MemoryLoad load = pressure.GetMemoryLoad(space.metrics().committed_bytes);
        if (load.load_percent != e.load || load.available_bytes != e.avail) {
          m.Add(i, "GetMemoryLoad");
        }
        vm = false;
        break;
      }
      case Op::kMemoryNotification:
        recorded_notifications.push_back(e.level);
        vm = false;
        break;
      default:
        vm = false;
        break;
    }
    if (vm) {
      ++m.vm_events;
      if (auto n = pressure.Update(space.metrics().committed_bytes, i)) {
        expected_notifications.push_back(static_cast<uint32_t>(n->level));
      }
    }
  }
  if (space.metrics().placement_fallbacks != 0) m.Add(0, "placement fallbacks");
  if (expected_notifications != recorded_notifications) m.Add(0, "notification sequence");
  if (std::string bad = space.CheckInvariants(); !bad.empty()) m.Add(0, bad);
  return m;
}

TEST(SimConsistencyTest, EveryProfileReplaysWithoutMismatch) {
  for (Profile p : {Profile::kWorkstationGc, Profile::kServerGc, Profile::kPressure,
                    Profile::kLinuxWorkstation, Profile::kLinuxServer}) {
    for (uint64_t seed : {1, 2}) {
      SCOPED_TRACE(std::string(ProfileName(p)) + " seed " + std::to_string(seed));
      SynthOptions o = Small(p, seed);
      const std::string path = Generate(o, "sim");
      const Mismatches m = Replay(Read(path));
      EXPECT_GT(m.vm_events, 100u);
      EXPECT_EQ(m.count, 0u) << m.first;
      std::remove(path.c_str());
    }
  }
}

TEST(SimConsistencyTest, CheckedInTracesReplayWithoutMismatch) {
  for (const char* name : {"workstation-gc", "server-gc", "pressure"}) {
    SCOPED_TRACE(name);
    const std::string path = std::string(VMREPLAY_SOURCE_DIR) + "/traces/synth/" + name + ".pb";
    const ReadTrace t = Read(path);
    ASSERT_GT(t.events.size(), 1000u);
    const Mismatches m = Replay(t);
    EXPECT_EQ(m.count, 0u) << m.first;
  }
}

}  // namespace
}  // namespace vmreplay::synth
