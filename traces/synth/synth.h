// vmreplay_synth: deterministic synthetic CLR workloads written as vmreplay traces.
//
// Same options (and command line) give a byte-identical trace. Every virtual-memory outcome in
// the trace is what the simulator computes for it (see clr_process.h), so the trace replays on
// the `sim` backend in layout-faithful mode without divergence.
#pragma once

#include <string>
#include <vector>

#include "proto/status.h"
#include "proto/trace.pb.h"
#include "traces/synth/synth_options.h"

namespace vmreplay::synth {

// The header a trace of these options gets; `command_line` is stored as given.
proto::Header MakeHeader(const SynthOptions& o, const std::vector<std::string>& command_line);

// Generates the workload into `path` (overwritten). Errors: invalid options, or the writer's
// one-line message.
Status Synthesize(const SynthOptions& o, const std::vector<std::string>& command_line,
                  const std::string& path);

}  // namespace vmreplay::synth
