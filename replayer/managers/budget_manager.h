// `budget`: a host that grades the CLR's requests by EMemoryCriticalLevel, as SQL Server's SQLOS
// did. Commit (at the platform) plus the bytes the CLR holds from the host's malloc count against
// `limit`. A request that would pass it fails when it is eTaskCritical (the CLR then aborts the
// task); eAppDomainCritical requests may still use `appdomain-reserve` more (past that the CLR
// unloads an AppDomain), and eProcessCritical ones `process-reserve` more again (0: unlimited, as
// a host must grant them or the process dies). Refused VirtualAlloc calls answer
// ERROR_OUTOFMEMORY (E_OUTOFMEMORY to the CLR), refused host mallocs NULL, refused mmap-family
// calls ENOMEM; calls without a level (the Linux families) count as eTaskCritical.
//
// GetMemoryLoad and the Low/Neutral/High notifications come from the budget, not the machine:
// the load is used / limit, with the same hysteresis as the machine's model
// (simulator/memory_pressure.h). Refusals are counted per level.
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "replayer/managers/manager.h"

namespace vmreplay::replay {

class BudgetManager final : public Manager {
 public:
  BudgetManager(const ManagerSpec& spec, const ManagerContext& context);
  std::string_view name() const override { return "budget"; }

  VmResult VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                        uint32_t level, uint64_t recorded_address) override;
  uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) override;
  sim::MemoryLoad GetMemoryLoad() override;
  std::optional<sim::MemoryNotification> PollNotification(uint64_t index) override;
  HeapBackend* CreateMalloc() override { return &heap_; }

  VmResult Mmap(uint64_t address, uint64_t length, int prot, int flags,
                uint64_t recorded_address) override;
  uint32_t Munmap(uint64_t address, uint64_t length) override;
  uint32_t Mprotect(uint64_t address, uint64_t length, int prot) override;
  VmResult Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                  uint64_t new_address, uint64_t recorded_address) override;
  ManagerStats stats() const override;

  // True when `bytes` more may be used at `level` (counted as a refusal otherwise). Thread-safe.
  bool Admit(uint64_t bytes, uint32_t level);
  // The host malloc's live bytes changed. Thread-safe.
  void HeapUsed(int64_t delta);

 private:
  // The IHostMalloc the CLR gets: the replay's heap, behind the budget.
  class BudgetHeap final : public HeapBackend {
   public:
    BudgetHeap(BudgetManager* budget, HeapBackend* heap) : budget_(budget), heap_(heap) {}
    std::string_view name() const override { return heap_->name(); }
    void* Alloc(size_t size, size_t alignment, uint32_t level) override;
    void* Realloc(void* p, size_t old_size, size_t size) override;
    void Free(void* p) override;
    std::optional<uint64_t> Footprint() override { return heap_->Footprint(); }

   private:
    BudgetManager* budget_;
    HeapBackend* heap_;
    std::mutex mu_;
    std::unordered_map<void*, size_t> sizes_;  // what each live block counts against the budget
  };

  static constexpr int kLevels = 3;  // eTaskCritical, eAppDomainCritical, eProcessCritical
  uint64_t LimitOf(uint32_t level) const;
  void AfterVm() { vm_committed_.store(platform_->committed_bytes(), std::memory_order_relaxed); }
  uint64_t Used() const {
    return vm_committed_.load(std::memory_order_relaxed) +
           heap_live_.load(std::memory_order_relaxed);
  }

  uint64_t limit_;
  uint64_t appdomain_reserve_;
  uint64_t process_reserve_;  // 0 = unlimited
  BudgetHeap heap_;
  sim::MemoryPressureModel budget_pressure_;
  std::atomic<uint64_t> vm_committed_{0};
  std::atomic<uint64_t> heap_live_{0};
  mutable std::mutex mu_;  // the figures below
  uint64_t peak_used_ = 0;
  std::array<uint64_t, kLevels> refused_{};
  std::array<uint64_t, kLevels> refused_bytes_{};
};

}  // namespace vmreplay::replay
