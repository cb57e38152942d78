// `plugin:PATH[,OPTIONS]`: a host's own IHostMemoryManager, loaded from a shared library that
// implements include/vmreplay/manager_plugin.h (the ABI, its rules and what is checked). The
// plugin gets its memory from the replay's platform through the platform table; this class
// drives it through the COM interfaces the way the CLR does and turns HRESULTs into the Win32
// errors the engine compares. Every address the plugin hands out is checked against the platform
// before the engine sees it. Traces of the mmap family pass through (a note says so).
#pragma once

#include <deque>
#include <memory>
#include <mutex>

#include "replayer/managers/manager.h"
#include "vmreplay/manager_plugin.h"

namespace vmreplay::replay {

class PluginManager final : public Manager {
 public:
  // Loads spec.plugin_path(), checks its ABI version and creates its manager; a one-line error
  // naming the library otherwise (missing file or symbol, other ABI, a failed creation).
  static Status Load(const ManagerSpec& spec, const ManagerContext& context,
                     std::unique_ptr<Manager>* out);
  ~PluginManager() override;

  std::string_view name() const override { return "plugin"; }
  // The plugin places memory itself (and knows no recorded address).
  CompareMode compare_mode() const override {
    return Weaker(platform_->compare_mode(), CompareMode::kErrorCode);
  }
  bool identity_addresses() const override { return false; }

  VmResult VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                        uint32_t level, uint64_t recorded_address) override;
  uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) override;
  uint32_t VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                          uint32_t* old_protect) override;
  uint64_t VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                        uint32_t* error) override;
  sim::MemoryLoad GetMemoryLoad() override;
  bool NeedsVirtualAddressSpace(uint64_t start, uint64_t size) override;
  void AcquiredVirtualAddressSpace(uint64_t start, uint64_t size) override;
  void ReleasedVirtualAddressSpace(uint64_t start) override;
  std::optional<sim::MemoryNotification> PollNotification(uint64_t index) override;
  HeapBackend* CreateMalloc() override;

  VmResult Mmap(uint64_t address, uint64_t length, int prot, int flags,
                uint64_t recorded_address) override;
  uint32_t Munmap(uint64_t address, uint64_t length) override;
  uint32_t Mprotect(uint64_t address, uint64_t length, int prot) override;
  uint32_t Madvise(uint64_t address, uint64_t length, int advice) override;
  VmResult Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                  uint64_t new_address, uint64_t recorded_address) override;
  ManagerStats stats() const override;

  // The Win32 error a failed HRESULT stands for (HRESULT_FROM_WIN32 codes give theirs back).
  static uint32_t ErrorOf(HRESULT hr);

 private:
  class Callback;
  class PluginHeap;
  PluginManager(const ManagerContext& context, const ManagerSpec& spec);
  Status Start(void* library);
  // True when [address, address + size) lies in memory the platform holds (reserved or
  // committed): the only memory the plugin may hand out.
  bool FromPlatform(uint64_t address, uint64_t size) const;
  uint32_t Refuse(const std::string& what);  // a rule broken: counted, noted once

  std::string path_;
  std::string options_;
  vmreplay_platform table_{};
  IHostMemoryManager* manager_ = nullptr;
  std::unique_ptr<Callback> callback_;
  std::unique_ptr<PluginHeap> plugin_heap_;
  std::string heap_note_;
  std::mutex notifications_mu_;
  std::deque<uint32_t> notifications_;  // EMemoryAvailable values delivered since the last poll
  uint64_t broken_rules_ = 0;
  std::string first_broken_rule_;
  uint64_t passed_through_ = 0;
  uint64_t notifications_delivered_ = 0;
};

}  // namespace vmreplay::replay
