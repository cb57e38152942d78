// The virtual-memory level of a replay: the IHostMemoryManager VirtualAlloc family and the Linux
// mmap family, on one backend. Each backend lives in its own file (sim_backend, os_backend,
// arena_backend); MakeVmBackend builds one by name.
//
// Contract: addresses passed in and returned are *replayed* addresses (the engine translates
// recorded ones, see address_map.h). Win32 calls return Win32 error codes (0 = success); POSIX
// calls return errno values (0 = success). Backends keep their own accounting of committed and
// reserved bytes with the simulator's definitions (simulator/metrics.h), so all backends report
// the same figures with the same meaning. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/status.h"
#include "simulator/region.h"

namespace vmreplay::replay {

struct VmResult {
  uint64_t address = 0;
  uint32_t error = 0;  // Win32 error or errno; 0 = success
};

// Figures a backend reports at the end of a replay (meanings: replayer/replay_metrics.h).
struct VmStats {
  uint64_t committed_bytes = 0;
  uint64_t peak_committed_bytes = 0;
  uint64_t peak_committed_event = 0;
  uint64_t reserved_bytes = 0;
  uint64_t peak_reserved_bytes = 0;
  uint64_t peak_reserved_event = 0;
  std::optional<double> fragmentation;  // 1 - largest free / total free, if meaningful
  std::optional<uint64_t> largest_free_block;
  uint64_t placement_fallbacks = 0;
  std::map<std::string, uint64_t> syscalls;  // system calls issued, per kind (real backends)
  std::optional<uint64_t> rss_high_water_bytes;
  uint64_t out_of_space = 0;  // calls refused for lack of address space (arena exhausted)
};

// How strictly a backend's outcomes are compared with the recorded ones.
enum class CompareMode {
  kSuccessOnly,  // success vs failure only (real backends: other error numbers, other layout)
  kErrorCode,    // also the error code (simulator with its own placement)
  kExact,        // also addresses, old protections and VirtualQuery answers (layout-faithful)
};

class VmBackend {
 public:
  virtual ~VmBackend() = default;
  virtual std::string_view name() const = 0;
  virtual CompareMode compare_mode() const = 0;
  // True when a recorded address nobody translated may be used as is (the simulator, whose
  // address space is virtual); false for real memory, where it would touch foreign memory.
  virtual bool identity_addresses() const = 0;

  // Win32 level. `recorded_address`: where the recording's NULL-address reservation landed.
  virtual VmResult VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                                uint64_t recorded_address) = 0;
  virtual uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) = 0;
  virtual uint32_t VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                                  uint32_t* old_protect) = 0;
  // Returns the bytes written (0 on failure, *error set).
  virtual uint64_t VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                                uint32_t* error) = 0;

  // POSIX level (Linux constants and errno values).
  virtual VmResult Mmap(uint64_t address, uint64_t length, int prot, int flags,
                        uint64_t recorded_address) = 0;
  virtual uint32_t Munmap(uint64_t address, uint64_t length) = 0;
  virtual uint32_t Mprotect(uint64_t address, uint64_t length, int prot) = 0;
  virtual uint32_t Madvise(uint64_t address, uint64_t length, int advice) = 0;
  virtual VmResult Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                          uint64_t new_address, uint64_t recorded_address) = 0;

  // The trace event being applied (for peak-at-event figures).
  virtual void set_event_index(uint64_t index) = 0;
  virtual uint64_t committed_bytes() const = 0;
  // Address-space fragmentation now, when the backend can tell (for the max-over-time figure).
  virtual std::optional<double> fragmentation() const = 0;
  virtual VmStats stats() const = 0;
};

// Options of every VM backend, from the command line.
struct VmBackendOptions {
  bool windows = true;  // Win32 trace (else Linux): picks the address-space shape and semantics
  std::string placement = "faithful";  // sim: faithful | bottom-up
  std::string address_space = "64";    // sim: 32-2g | 32-3g | 32-4g | 64
  uint64_t commit_limit = UINT64_MAX;  // sim, os, arena accounting
  uint64_t page_size = 4096;
  uint64_t allocation_granularity = 65536;
  uint64_t physical_memory = 16ull << 30;
  uint64_t arena_size = 64ull << 30;  // arena: bytes reserved up front
};

struct VmBackendInfo {
  std::string_view name;
  std::string_view summary;
};
const std::vector<VmBackendInfo>& VmBackends();
Status MakeVmBackend(std::string_view name, const VmBackendOptions& options,
                     std::unique_ptr<VmBackend>* out);

}  // namespace vmreplay::replay
