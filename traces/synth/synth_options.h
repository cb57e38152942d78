// What `vmreplay synth` is asked to generate: a profile and its parameters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/status.h"

namespace vmreplay::synth {

enum class Profile { kWorkstationGc, kServerGc, kPressure, kLinuxWorkstation, kLinuxServer };

struct SynthOptions {
  Profile profile = Profile::kWorkstationGc;
  uint64_t seed = 1;
  double duration_s = 10.0;  // simulated time; generation stops at the first of duration / events
  uint64_t heap_mb = 256;    // steady-state managed heap size the workload grows toward
  uint32_t threads = 4;      // mutator threads (server-gc: also the number of GC heaps)
  uint64_t max_events = 0;   // 0 = no cap
  // Live loader blocks (type loading) at most: past it, each new type frees an old block, so a
  // very long run's host heap plateaus as a real runtime's does. 0 = no cap (the default: the
  // bundled traces' shape).
  uint64_t loader_blocks_max = 0;
};

// "workstation-gc", "server-gc", "pressure", "linux-workstation", "linux-server".
std::string_view ProfileName(Profile p);
// Error names the unknown profile and lists the known ones.
Status ParseProfile(std::string_view name, Profile* out);
// Empty status when usable: duration > 0 and <= 1 day, 16 <= heap_mb <= 65536, 1 <= threads <= 64.
Status Validate(const SynthOptions& o);

}  // namespace vmreplay::synth
