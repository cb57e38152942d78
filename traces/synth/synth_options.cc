#include "traces/synth/synth_options.h"

namespace vmreplay::synth {

std::string_view ProfileName(Profile p) {
  switch (p) {
    case Profile::kWorkstationGc:
      return "workstation-gc";
    case Profile::kServerGc:
      return "server-gc";
    case Profile::kPressure:
      return "pressure";
    case Profile::kLinuxWorkstation:
      return "linux-workstation";
    case Profile::kLinuxServer:
      return "linux-server";
  }
  return "?";
}

Status ParseProfile(std::string_view name, Profile* out) {
  for (Profile p : {Profile::kWorkstationGc, Profile::kServerGc, Profile::kPressure,
                    Profile::kLinuxWorkstation, Profile::kLinuxServer}) {
    if (name == ProfileName(p)) {
      *out = p;
      return Status::Ok();
    }
  }
  return Status::Error("unknown profile '" + std::string(name) +
                       "' (workstation-gc, server-gc, pressure, linux-workstation, linux-server)");
}

Status Validate(const SynthOptions& o) {
  if (!(o.duration_s > 0.0) || o.duration_s > 86400.0) {
    return Status::Error("--duration-s must be in (0, 86400]");
  }
  if (o.heap_mb < 16 || o.heap_mb > 65536) return Status::Error("--heap-mb must be in [16, 65536]");
  if (o.threads < 1 || o.threads > 64) return Status::Error("--threads must be in [1, 64]");
  return Status::Ok();
}

}  // namespace vmreplay::synth
