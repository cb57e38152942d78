// The table of VM backends and the factory (one place to add a backend).
#include <memory>

#include "replayer/arena_backend.h"
#include "replayer/os_backend.h"
#include "replayer/sim_backend.h"
#include "replayer/vm_backend.h"

namespace vmreplay::replay {

const std::vector<VmBackendInfo>& VmBackends() {
  static const std::vector<VmBackendInfo> backends = {
      {"sim",
       "simulated address space, no real memory (--placement, --address-space, "
       "--commit-limit)"},
      {"os", "real mmap/mprotect/madvise/munmap, one mapping per reservation"},
      {"arena",
       "one PROT_NONE region reserved up front, first-fit placement inside, commits by "
       "mprotect (--arena-size)"},
  };
  return backends;
}

Status MakeVmBackend(std::string_view name, const VmBackendOptions& options,
                     std::unique_ptr<VmBackend>* out) {
  if (name == "sim") {
    sim::AddressSpaceConfig config;
    VMREPLAY_RETURN_IF_ERROR(MakeSimConfig(options, &config));
    *out = std::make_unique<SimBackend>(config);
    return Status::Ok();
  }
  if (name == "os") {
    *out = std::make_unique<OsBackend>(options);
    return Status::Ok();
  }
  if (name == "arena") return ArenaBackend::Create(options, out);
  return Status::Error("unknown backend '" + std::string(name) +
                       "' (vmreplay backends lists them)");
}

}  // namespace vmreplay::replay
