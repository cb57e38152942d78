// Tests of vmreplay_synth: determinism, the event cap, and the shape of each profile.
#include <algorithm>
#include <cstdio>
#include <set>

#include "gtest/gtest.h"
#include "simulator/win32_constants.h"
#include "tests/synth/synth_trace_util.h"
#include "traces/synth/clr_process.h"
#include "traces/synth/profiles.h"

namespace vmreplay::synth {
namespace {

TEST(SynthTest, SameSeedSameBytesOtherSeedOtherBytes) {
  for (Profile p : {Profile::kWorkstationGc, Profile::kServerGc, Profile::kPressure,
                    Profile::kLinuxWorkstation, Profile::kLinuxServer}) {
    SCOPED_TRACE(std::string(ProfileName(p)));
    const std::string a = Generate(Small(p, 11), "a");
    const std::string b = Generate(Small(p, 11), "b");
    const std::string c = Generate(Small(p, 12), "c");
    const std::string ba = Bytes(a);
    EXPECT_GT(ba.size(), 1000u);
    EXPECT_EQ(ba, Bytes(b));
    EXPECT_NE(ba, Bytes(c));
    std::remove(a.c_str());
    std::remove(b.c_str());
    std::remove(c.c_str());
  }
}

TEST(SynthTest, EventCapIsExactAndTimestampsNeverDecrease) {
  SynthOptions o = Small(Profile::kWorkstationGc);
  o.max_events = 1234;
  const std::string path = Generate(o, "cap");
  const ReadTrace t = Read(path);
  EXPECT_EQ(t.events.size(), 1234u);
  for (size_t i = 1; i < t.events.size(); ++i) {
    ASSERT_LE(t.events[i - 1].timestamp_ns, t.events[i].timestamp_ns) << "event " << i;
  }
  std::remove(path.c_str());
}

TEST(SynthTest, RejectsBadOptions) {
  SynthOptions o;
  o.threads = 0;
  EXPECT_FALSE(Validate(o).ok());
  Profile p;
  const Status s = ParseProfile("nope", &p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("workstation-gc"), std::string::npos);
}

// Common to every profile: the CLR's start-up sequence and levels.
void CheckStartUp(const ReadTrace& t) {
  ASSERT_GT(t.events.size(), 10u);
  EXPECT_EQ(t.events[0].op, Op::kCreateMalloc);
  EXPECT_EQ(t.events[0].flags, kMallocThreadSafe);
  EXPECT_EQ(t.events[1].op, Op::kRegisterMemoryNotificationCallback);
  size_t creates = 0, registers = 0, task_level = 0, allocs = 0;
  bool started = false;
  for (const Event& e : t.events) {
    creates += e.op == Op::kCreateMalloc;
    registers += e.op == Op::kRegisterMemoryNotificationCallback;
    if (e.op != Op::kVirtualAlloc) continue;
    if (!started) {
      EXPECT_EQ(e.level, kProcessCritical) << "first VirtualAlloc is in start-up";
    }
    started = true;
    ++allocs;
    task_level += e.level == kTaskCritical;
  }
  EXPECT_EQ(creates, 1u);
  EXPECT_EQ(registers, 1u);
  EXPECT_GT(task_level * 2, allocs) << "after start-up most VirtualAllocs are eTaskCritical";
}

TEST(SynthTest, WorkstationGcShape) {
  const std::string path = Generate(Small(Profile::kWorkstationGc), "ws");
  const ReadTrace t = Read(path);
  CheckStartUp(t);
  size_t decommits = 0, releases = 0, protects = 0, queries = 0, loads = 0, reserves = 0;
  size_t commits = 0, debug_allocs = 0, jit_files = 0, host_allocs = 0, host_frees = 0;
  for (size_t i = 0; i < t.events.size(); ++i) {
    const Event& e = t.events[i];
    EXPECT_EQ(e.error, 0u) << "event " << i;
    switch (e.op) {
      case Op::kVirtualAlloc:
        reserves += (e.flags & win32::kMemReserve) != 0;
        commits += e.flags == win32::kMemCommit;
        break;
      case Op::kVirtualFree:
        decommits += e.flags == win32::kMemDecommit;
        releases += e.flags == win32::kMemRelease;
        break;
      case Op::kVirtualProtect:
        ++protects;
        break;
      case Op::kVirtualQuery:
        ++queries;
        break;
      case Op::kGetMemoryLoad:
        ++loads;
        break;
      case Op::kHostDebugAlloc:
        ++debug_allocs;
        EXPECT_FALSE(t.files[i].empty());
        EXPECT_GT(e.line, 0);
        jit_files += t.files[i] == "jitinterface.cpp";
        break;
      case Op::kHostAlloc:
        ++host_allocs;
        break;
      case Op::kHostFree:
        ++host_frees;
        break;
      default:
        break;
    }
  }
  // 3 s at 200 MB/s with a 4 MiB gen0 budget: well over 20 collections, each decommitting.
  EXPECT_GE(decommits, 20u);
  EXPECT_GT(commits, decommits);
  EXPECT_GE(reserves, 3u);  // segment, card table, code heap, large objects
  EXPECT_GE(releases, 1u);  // dead large objects
  EXPECT_GE(protects, 2u);  // write watch on and off around a gen2
  EXPECT_GE(queries, 1u);
  EXPECT_GE(loads, 10u);
  EXPECT_GT(debug_allocs, 100u);
  EXPECT_GT(jit_files, 10u);
  EXPECT_GT(host_allocs, debug_allocs);
  EXPECT_LE(host_frees, host_allocs + debug_allocs);
  std::remove(path.c_str());
}

TEST(SynthTest, ServerGcHasOneReservationPerHeapFromItsOwnThread) {
  SynthOptions o = Small(Profile::kServerGc);
  o.threads = 6;
  const std::string path = Generate(o, "srv");
  const ReadTrace t = Read(path);
  CheckStartUp(t);
  std::set<uint64_t> reserving_gc_threads, decommitting_threads, mutators;
  for (const Event& e : t.events) {
    const bool gc_thread = e.thread >= GcThread(0) && e.thread <= GcThread(63);
    if (e.op == Op::kVirtualAlloc && e.flags == win32::kMemReserve && gc_thread &&
        e.size >= (64u << 20)) {
      reserving_gc_threads.insert(e.thread);
    }
    if (e.op == Op::kVirtualFree && e.flags == win32::kMemDecommit) {
      decommitting_threads.insert(e.thread);
    }
    if (e.thread >= MutatorThread(0) && e.thread <= MutatorThread(63)) mutators.insert(e.thread);
  }
  EXPECT_EQ(reserving_gc_threads.size(), 6u);
  EXPECT_EQ(decommitting_threads.size(), 6u);
  EXPECT_EQ(mutators.size(), 6u);
  std::remove(path.c_str());
}

TEST(SynthTest, PressureEpisodesGoLowThenHigh) {
  SynthOptions o = Small(Profile::kPressure);
  o.duration_s = 6.0;
  const std::string path = Generate(o, "prs");
  const ReadTrace t = Read(path);
  CheckStartUp(t);
  EXPECT_EQ(t.header.physical_memory(), o.heap_mb << 20);
  std::vector<uint32_t> levels;
  uint32_t max_load = 0;
  for (const Event& e : t.events) {
    if (e.op == Op::kMemoryNotification) levels.push_back(e.level);
    if (e.op == Op::kGetMemoryLoad) max_load = std::max(max_load, e.load);
  }
  EXPECT_GE(max_load, 80u);
  // Find Low (1) ... High (3) at least twice.
  int episodes = 0;
  bool low = false;
  for (uint32_t l : levels) {
    if (l == 1) low = true;
    if (l == 3 && low) {
      ++episodes;
      low = false;
    }
  }
  EXPECT_GE(episodes, 2) << "notifications: " << levels.size();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace vmreplay::synth
