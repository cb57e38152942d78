// The workload profiles: each drives a ClrProcess until its duration or event cap is reached.
// traces/synth/README.md describes the shape of each.
#pragma once

#include "traces/synth/clr_process.h"
#include "traces/synth/synth_options.h"

namespace vmreplay::synth {

// Physical memory the profile's simulated machine has (the trace header's physical_memory).
uint64_t PhysicalMemoryFor(const SynthOptions& o);

void RunWorkstationGc(const SynthOptions& o, ClrProcess* p);
void RunServerGc(const SynthOptions& o, ClrProcess* p);
void RunPressure(const SynthOptions& o, ClrProcess* p);
// .NET 8+ on Linux as `vmreplay lift --clr` shows it: the regions GC (server: one heap per
// thread), W^X code views and loader pages, the runtime's malloc traffic (linux_profiles.cc).
void RunLinuxRegions(const SynthOptions& o, bool server, ClrProcess* p);

// Thread ids the profiles use (Windows thread ids are multiples of 4; the ranges never overlap for
// i < 64).
inline constexpr uint64_t kMainThread = 0x1a2c;
inline constexpr uint64_t kFinalizerThread = 0x1b40;
inline constexpr uint64_t kBackgroundGcThread = 0x1c58;
inline uint64_t MutatorThread(uint32_t i) { return 0x2000 + 0x1c4 * uint64_t{i}; }
inline uint64_t GcThread(uint32_t i) { return 0x9000 + 0x0d8 * uint64_t{i}; }

}  // namespace vmreplay::synth
