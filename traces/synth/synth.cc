#include "traces/synth/synth.h"

#include <cstdio>
#include <memory>

#include "proto/trace_writer.h"
#include "traces/synth/clr_process.h"
#include "traces/synth/profiles.h"

namespace vmreplay::synth {

proto::Header MakeHeader(const SynthOptions& o, const std::vector<std::string>& command_line) {
  proto::Header h;
  h.set_platform(proto::PLATFORM_SYNTHETIC);
  h.set_page_size(4096);
  h.set_allocation_granularity(65536);
  h.set_min_user_address(0x10000);
  h.set_max_user_address(0x7FFFFFFEFFFF);
  h.set_physical_memory(PhysicalMemoryFor(o));
  h.set_commit_limit(0);
  h.set_source(proto::SOURCE_SYNTHETIC);
  for (const std::string& a : command_line) h.add_command_line(a);
  // A fixed epoch (2023-11-14T22:13:20Z): the trace must not depend on when it was generated.
  h.set_start_time_unix_ns(1'700'000'000'000'000'000ull);
  h.set_pointer_bits(64);
  auto& m = *h.mutable_metadata();
  m["synth.profile"] = std::string(ProfileName(o.profile));
  m["synth.seed"] = std::to_string(o.seed);
  char duration[32];
  std::snprintf(duration, sizeof duration, "%g", o.duration_s);
  m["synth.duration_s"] = duration;
  m["synth.heap_mb"] = std::to_string(o.heap_mb);
  m["synth.threads"] = std::to_string(o.threads);
  m["synth.max_events"] = std::to_string(o.max_events);
  if (o.loader_blocks_max != 0) m["synth.loader_blocks_max"] = std::to_string(o.loader_blocks_max);
  m["synth.generator"] = "vmreplay_synth 1";
  return h;
}

Status Synthesize(const SynthOptions& o, const std::vector<std::string>& command_line,
                  const std::string& path) {
  VMREPLAY_RETURN_IF_ERROR(Validate(o));
  std::unique_ptr<TraceWriter> writer;
  VMREPLAY_RETURN_IF_ERROR(
      TraceWriter::Create(path, MakeHeader(o, command_line), WriterOptions(), &writer));
  ProcessShape shape;
  shape.physical_memory = PhysicalMemoryFor(o);
  shape.duration_ns = static_cast<uint64_t>(o.duration_s * 1e9);
  shape.max_events = o.max_events;
  ClrProcess process(shape, o.seed, writer.get());
  switch (o.profile) {
    case Profile::kWorkstationGc:
      RunWorkstationGc(o, &process);
      break;
    case Profile::kServerGc:
      RunServerGc(o, &process);
      break;
    case Profile::kPressure:
      RunPressure(o, &process);
      break;
    case Profile::kLinuxWorkstation:
      RunLinuxRegions(o, /*server=*/false, &process);
      break;
    case Profile::kLinuxServer:
      RunLinuxRegions(o, /*server=*/true, &process);
      break;
  }
  VMREPLAY_RETURN_IF_ERROR(process.status());
  proto::Footer footer;
  footer.set_end_time_unix_ns(1'700'000'000'000'000'000ull + process.now());
  return writer->Finish(footer);
}

}  // namespace vmreplay::synth
