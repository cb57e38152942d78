// The upper level of a replay: a memory manager, the host's side of IHostMemoryManager. The
// engine hands it the trace's calls as the CLR made them (VirtualAlloc, VirtualFree,
// VirtualProtect, VirtualQuery, GetMemoryLoad, Needs/Acquired/ReleasedVirtualAddressSpace,
// CreateMalloc; on Linux traces the mmap family), and the manager satisfies them from the
// platform below it (platforms/platform.h) according to its policy. What the CLR sees (outcomes,
// divergences, latency) is measured at this interface; what the OS sees at the platform.
//
// The base class is the reference policy, `passthrough`: every call is forwarded unchanged,
// GetMemoryLoad and the notifications come from the machine's memory (the platform's commit
// against physical memory), and CreateMalloc hands out the replay's heap. Each built-in manager
// is one file in this folder overriding what its policy changes; plugin_manager.h loads a host's
// own. Not thread-safe, except that the heap CreateMalloc returns is (threaded replay).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replayer/heaps/heap_backend.h"
#include "replayer/managers/manager_options.h"
#include "replayer/platforms/platform.h"
#include "simulator/memory_pressure.h"

namespace vmreplay::replay {

// A figure only some policy has (the arena's own fragmentation, cache hits, refusals per level),
// shown beside the platform's figures.
struct ManagerFigure {
  enum class Unit { kCount, kBytes, kRatio };
  std::string name;
  double value = 0;
  Unit unit = Unit::kCount;
};

struct ManagerStats {
  std::vector<ManagerFigure> figures;
  // One line each, for the reader: what the policy could not do and why ("a 47.00 GiB
  // reservation did not fit the 64.00 GiB arena ..."), or where it does not apply.
  std::vector<std::string> notes;
};

// What every manager is built with.
struct ManagerContext {
  Platform* platform = nullptr;            // REQUIRES: outlives the manager
  HeapBackend* heap = nullptr;             // the replay's heap (IHostMalloc); outlives the manager
  bool windows = true;                     // a Win32 trace (else the mmap family of a Linux one)
  uint64_t physical_memory = 16ull << 30;  // of the recording machine, for the memory load
};

class Manager {
 public:
  explicit Manager(const ManagerContext& context);
  virtual ~Manager() = default;
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  virtual std::string_view name() const { return "passthrough"; }
  // How the engine compares outcomes: a policy that places memory itself can keep error codes
  // but not the recorded addresses.
  virtual CompareMode compare_mode() const { return platform_->compare_mode(); }
  // True when a recorded address the engine cannot translate may be passed on as is (see
  // Platform::identity_addresses); false once the policy places memory itself.
  virtual bool identity_addresses() const { return platform_->identity_addresses(); }

  // IHostMemoryManager. Addresses are the replay's; errors are Win32 codes (0 = success).
  // `level` is the call's EMemoryCriticalLevel; `recorded_address` where the recording's
  // NULL-address reservation landed (a placement hint).
  virtual VmResult VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                                uint32_t level, uint64_t recorded_address);
  virtual uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type);
  virtual uint32_t VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                                  uint32_t* old_protect);
  virtual uint64_t VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                                uint32_t* error);
  virtual sim::MemoryLoad GetMemoryLoad();
  // The CLR asks for address space after a failed MapViewOfFile; true = "retry" (the host freed
  // some). The other two follow a successful map / unmap.
  virtual bool NeedsVirtualAddressSpace(uint64_t start, uint64_t size);
  virtual void AcquiredVirtualAddressSpace(uint64_t start, uint64_t size);
  virtual void ReleasedVirtualAddressSpace(uint64_t start);
  // ICLRMemoryNotificationCallback, the other way: the notification the host delivers to the
  // CLR now (after the VM call of event `index`), if any.
  virtual std::optional<sim::MemoryNotification> PollNotification(uint64_t index);
  // CreateMalloc: the IHostMalloc for the trace's heap calls. Never null.
  virtual HeapBackend* CreateMalloc() { return heap_; }

  // The mmap family of Linux traces (Linux constants, errno values).
  virtual VmResult Mmap(uint64_t address, uint64_t length, int prot, int flags,
                        uint64_t recorded_address);
  virtual uint32_t Munmap(uint64_t address, uint64_t length);
  virtual uint32_t Mprotect(uint64_t address, uint64_t length, int prot);
  virtual uint32_t Madvise(uint64_t address, uint64_t length, int advice);
  virtual VmResult Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                          uint64_t new_address, uint64_t recorded_address);

  // The trace event being applied (peak-at-event figures).
  virtual void set_event_index(uint64_t index) { platform_->set_event_index(index); }
  // Policy figures and notes at the end of the replay.
  virtual ManagerStats stats() const { return {}; }

  Platform& platform() const { return *platform_; }

 protected:
  Platform* platform_;
  HeapBackend* heap_;
  bool windows_;
  sim::MemoryPressureModel pressure_;  // the machine's, over the platform's commit
};

// The manager `spec` names ("arena", "arena:size=16G,placement=best-fit", "plugin:./lib.so").
Status MakeManager(const ManagerSpec& spec, const ManagerContext& context,
                   std::unique_ptr<Manager>* out);

}  // namespace vmreplay::replay
