// The lower level of a replay: virtual memory with Win32 semantics (the VirtualAlloc family) and
// Linux semantics (the mmap family), as an operating system provides it. A manager
// (managers/manager.h) sits above and decides policy; the platform is what the OS would see, so
// commit, reservation, fragmentation, system calls and RSS are measured here. One platform per
// file: `sim` (sim_platform.h, the simulator, no real memory) and `os` (os_platform.h, the real
// mmap family); MakePlatform builds one by name.
//
// Contract: addresses are the platform's own (replayed) addresses. Win32 calls return Win32 error
// codes (0 = success); POSIX calls return errno values (0 = success). Every platform keeps its
// accounting with the simulator's definitions (simulator/metrics.h), so figures mean the same on
// every platform. Every call is counted per kind (PlatformCall): on `sim` those counts are the
// calls an OS would have received, on `os` they sit beside the system calls really issued.
// Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/status.h"
#include "proto/trace.pb.h"
#include "simulator/region.h"
#include "simulator/win32_constants.h"

namespace vmreplay::replay {

struct VmResult {
  uint64_t address = 0;
  uint32_t error = 0;  // Win32 error or errno; 0 = success
};

// The kinds of platform calls, counted by every platform (the "platform calls" figures).
enum class PlatformCall : uint8_t {
  kReserve,           // VirtualAlloc MEM_RESERVE
  kCommit,            // VirtualAlloc MEM_COMMIT into a reservation
  kReserveAndCommit,  // VirtualAlloc MEM_RESERVE | MEM_COMMIT
  kReset,             // VirtualAlloc MEM_RESET
  kDecommit,          // VirtualFree MEM_DECOMMIT
  kRelease,           // VirtualFree MEM_RELEASE
  kProtect,           // VirtualProtect
  kQuery,             // VirtualQuery
  kMmap,
  kMunmap,
  kMprotect,
  kMadvise,
  kMremap,
  kHugePageAdvice,  // AdviseHugePages (madvise MADV_HUGEPAGE on os)
  kCount
};
std::string_view PlatformCallName(PlatformCall call);
// The kind of a VirtualAlloc call by its allocation type.
PlatformCall VirtualAllocKind(uint64_t address, uint32_t type);

// Figures a platform reports at the end of a replay (meanings: metrics/replay_metrics.h).
struct PlatformStats {
  uint64_t committed_bytes = 0;
  uint64_t peak_committed_bytes = 0;
  uint64_t peak_committed_event = 0;
  uint64_t reserved_bytes = 0;
  uint64_t peak_reserved_bytes = 0;
  uint64_t peak_reserved_event = 0;
  std::optional<double> fragmentation;  // 1 - largest free / total free, if meaningful
  std::optional<uint64_t> largest_free_block;
  uint64_t placement_fallbacks = 0;
  std::map<std::string, uint64_t> calls;     // platform calls, per kind (PlatformCallName)
  std::map<std::string, uint64_t> syscalls;  // system calls issued, per kind (os)
  std::optional<uint64_t> rss_high_water_bytes;
  uint64_t out_of_space = 0;             // calls refused for lack of address space or mappings
  uint64_t commit_limit_refusals = 0;    // commits refused by the platform's commit limit
  std::optional<uint64_t> commit_limit;  // bytes, when one applies
  // The recording's address-space snapshot (Header.initial_mappings) as placed (sim only).
  uint64_t foreign_mappings = 0;
  uint64_t foreign_bytes = 0;
  uint64_t foreign_skipped = 0;  // outside user space or overlapping another: not placed
};

// How strictly a replay's outcomes are compared with the recorded ones.
enum class CompareMode {
  kSuccessOnly,  // success vs failure only (real memory: other error numbers, other layout)
  kErrorCode,    // also the error code (own placement)
  kExact,        // also addresses, old protections and VirtualQuery answers (layout-faithful)
};
inline CompareMode Weaker(CompareMode a, CompareMode b) { return a < b ? a : b; }

class Platform {
 public:
  virtual ~Platform() = default;
  virtual std::string_view name() const = 0;
  virtual CompareMode compare_mode() const = 0;
  // True when a recorded address nobody translated may be used as is (the simulator, whose
  // address space is virtual); false for real memory, where it would touch foreign memory.
  virtual bool identity_addresses() const = 0;

  // Win32. `recorded_address`: where the recording's NULL-address reservation landed (a
  // placement hint the simulator honours in layout-faithful mode).
  VmResult VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                        uint64_t recorded_address) {
    Count(VirtualAllocKind(address, type));
    return DoVirtualAlloc(address, size, type, protect, recorded_address);
  }
  uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) {
    Count(free_type == win32::kMemRelease ? PlatformCall::kRelease : PlatformCall::kDecommit);
    return DoVirtualFree(address, size, free_type);
  }
  uint32_t VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                          uint32_t* old_protect) {
    Count(PlatformCall::kProtect);
    return DoVirtualProtect(address, size, protect, old_protect);
  }
  // Returns the bytes written (0 on failure, *error set). Not counted: a query changes nothing
  // and managers ask their platform often.
  virtual uint64_t VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                                uint32_t* error) = 0;

  // POSIX (Linux constants and errno values).
  VmResult Mmap(uint64_t address, uint64_t length, int prot, int flags, uint64_t recorded_address) {
    Count(PlatformCall::kMmap);
    return DoMmap(address, length, prot, flags, recorded_address);
  }
  uint32_t Munmap(uint64_t address, uint64_t length) {
    Count(PlatformCall::kMunmap);
    return DoMunmap(address, length);
  }
  uint32_t Mprotect(uint64_t address, uint64_t length, int prot) {
    Count(PlatformCall::kMprotect);
    return DoMprotect(address, length, prot);
  }
  uint32_t Madvise(uint64_t address, uint64_t length, int advice) {
    Count(PlatformCall::kMadvise);
    return DoMadvise(address, length, advice);
  }
  VmResult Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                  uint64_t new_address, uint64_t recorded_address) {
    Count(PlatformCall::kMremap);
    return DoMremap(address, old_size, new_size, flags, new_address, recorded_address);
  }
  // Asks for [address, address + length) to be backed by huge pages (os: MADV_HUGEPAGE).
  void AdviseHugePages(uint64_t address, uint64_t length) {
    Count(PlatformCall::kHugePageAdvice);
    DoAdviseHugePages(address, length);
  }

  // Committed bytes in [start, end) (a manager asks before it commits, e.g. for a budget).
  virtual uint64_t CommittedIn(uint64_t start, uint64_t end) const = 0;
  // The usable address range [first, last] (inclusive, like lpMaximumApplicationAddress).
  virtual std::pair<uint64_t, uint64_t> user_range() const = 0;
  virtual uint64_t commit_limit() const = 0;  // UINT64_MAX when none applies
  virtual uint64_t page_size() const = 0;
  virtual uint64_t allocation_granularity() const = 0;

  // The trace event being applied (for peak-at-event figures).
  virtual void set_event_index(uint64_t index) = 0;
  virtual uint64_t committed_bytes() const = 0;
  virtual uint64_t reserved_bytes() const = 0;
  // Address-space fragmentation now, when the platform can tell (for the max-over-time figure).
  virtual std::optional<double> fragmentation() const = 0;
  // Final figures; the call counts are added by the base class.
  PlatformStats stats() const;

 protected:
  virtual VmResult DoVirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                                  uint64_t recorded_address) = 0;
  virtual uint32_t DoVirtualFree(uint64_t address, uint64_t size, uint32_t free_type) = 0;
  virtual uint32_t DoVirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                                    uint32_t* old_protect) = 0;
  virtual VmResult DoMmap(uint64_t address, uint64_t length, int prot, int flags,
                          uint64_t recorded_address) = 0;
  virtual uint32_t DoMunmap(uint64_t address, uint64_t length) = 0;
  virtual uint32_t DoMprotect(uint64_t address, uint64_t length, int prot) = 0;
  virtual uint32_t DoMadvise(uint64_t address, uint64_t length, int advice) = 0;
  virtual VmResult DoMremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                            uint64_t new_address, uint64_t recorded_address) = 0;
  virtual void DoAdviseHugePages(uint64_t address, uint64_t length) = 0;
  virtual PlatformStats DoStats() const = 0;

 private:
  void Count(PlatformCall call) { ++calls_[static_cast<size_t>(call)]; }
  std::array<uint64_t, static_cast<size_t>(PlatformCall::kCount)> calls_{};
};

// A mapping the recorded process had before recording began (Header.initial_mappings).
struct ForeignMapping {
  uint64_t start = 0;
  uint64_t size = 0;
  int prot = 0;  // PROT_*
  bool shared = false;
  bool file = false;
};

// Options of every platform, from the command line and the trace header.
struct PlatformOptions {
  bool windows = true;  // Win32 trace (else Linux): picks the address-space shape and semantics
  std::string placement = "faithful";  // sim: faithful | bottom-up | best-fit | next-fit
  std::string address_space = "64";    // sim: 32-2g | 32-3g | 32-4g | 64
  // Bytes that may be committed at once; 0 = the platform's default (sim: unlimited; os: the
  // machine's commit limit, see os_platform.h).
  uint64_t commit_limit = 0;
  uint64_t page_size = 4096;
  uint64_t allocation_granularity = 65536;
  uint64_t physical_memory = 16ull << 30;
  // sim: placed before the first event. Real memory has neighbours of its own: os ignores them.
  std::vector<ForeignMapping> foreign_mappings;
};

struct PlatformInfo {
  std::string_view name;
  std::string_view summary;
};
const std::vector<PlatformInfo>& Platforms();
Status MakePlatform(std::string_view name, const PlatformOptions& options,
                    std::unique_ptr<Platform>* out);
// The header's address-space snapshot (initial_mappings) in the platform's terms.
std::vector<ForeignMapping> ForeignMappingsOf(const proto::Header& header);

}  // namespace vmreplay::replay
