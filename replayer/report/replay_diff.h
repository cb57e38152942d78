// `vmreplay diff A.json B.json`: two replay results (schema vmreplay.replay/2 or /1,
// replay_report.h) side by side. Runs are matched by "backend/heap"; for each matched run every
// numeric figure (nested ones flattened: latency_ns.VirtualAlloc.p99, notifications.low,
// syscalls.mmap) is shown with its value in A, in B and the relative change (B - A) / A. Runs
// present in one file only are listed. Errors: a file that is not JSON, or whose "schema" is
// neither vmreplay.replay/2 nor /1.
#pragma once

#include <ostream>
#include <string>

#include "proto/status.h"
#include "replayer/report/json_value.h"

namespace vmreplay::replay {

inline constexpr const char* kReplaySchema = "vmreplay.replay/2";

// OK when `doc` is a vmreplay.replay/2 (or /1) document; the error names `name`.
Status CheckReplaySchema(const json::Value& doc, const std::string& name);

// REQUIRES: both documents pass CheckReplaySchema. `changed_only` hides unchanged figures.
void WriteReplayDiff(const json::Value& a, const json::Value& b, const std::string& name_a,
                     const std::string& name_b, bool changed_only, std::ostream& out);

}  // namespace vmreplay::replay
