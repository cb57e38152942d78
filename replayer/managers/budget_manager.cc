#include "replayer/managers/budget_manager.h"

#include "replayer/metrics/format_bytes.h"
#include "simulator/posix_constants.h"
#include "simulator/win32_constants.h"

namespace vmreplay::replay {
namespace {

sim::MemoryPressureConfig BudgetPressure(uint64_t limit) {
  sim::MemoryPressureConfig c;
  c.physical_memory = limit == 0 ? 1 : limit;
  return c;
}

constexpr const char* kLevelNames[] = {"eTaskCritical", "eAppDomainCritical", "eProcessCritical"};

bool SharedFile(int flags) {
  using namespace linux_abi;
  return (flags & kMapTypeMask) != kMapPrivate && (flags & kMapAnonymous) == 0;
}

}  // namespace

BudgetManager::BudgetManager(const ManagerSpec& spec, const ManagerContext& context)
    : Manager(context),
      limit_(spec.Bytes("limit")),
      appdomain_reserve_(spec.Bytes("appdomain-reserve")),
      process_reserve_(spec.Bytes("process-reserve")),
      heap_(this, context.heap),
      budget_pressure_(BudgetPressure(limit_)) {}

uint64_t BudgetManager::LimitOf(uint32_t level) const {
  const uint64_t appdomain = limit_ + appdomain_reserve_;
  if (level == 0) return limit_;
  if (level == 1) return appdomain;
  return process_reserve_ == 0 ? UINT64_MAX : appdomain + process_reserve_;
}

bool BudgetManager::Admit(uint64_t bytes, uint32_t level) {
  if (level >= kLevels) level = kLevels - 1;
  std::lock_guard lock(mu_);
  const uint64_t used = Used();
  const uint64_t limit = LimitOf(level);
  if (bytes > limit || used > limit - bytes) {
    ++refused_[level];
    refused_bytes_[level] += bytes;
    return false;
  }
  if (used + bytes > peak_used_) peak_used_ = used + bytes;
  return true;
}

void BudgetManager::HeapUsed(int64_t delta) {
  heap_live_.fetch_add(static_cast<uint64_t>(delta), std::memory_order_relaxed);
}

// ------------------------------------------------------------------------------------ Heap

void* BudgetManager::BudgetHeap::Alloc(size_t size, size_t alignment, uint32_t level) {
  if (!budget_->Admit(size, level)) return nullptr;
  void* p = heap_->Alloc(size, alignment, level);
  if (p == nullptr) return nullptr;
  budget_->HeapUsed(static_cast<int64_t>(size));
  std::lock_guard lock(mu_);
  sizes_[p] = size;
  return p;
}

void* BudgetManager::BudgetHeap::Realloc(void* p, size_t old_size, size_t size) {
  if (size > old_size && !budget_->Admit(size - old_size, 0)) return nullptr;
  void* q = heap_->Realloc(p, old_size, size);
  if (q == nullptr) return nullptr;
  std::lock_guard lock(mu_);
  auto it = sizes_.find(p);
  const size_t counted = it != sizes_.end() ? it->second : 0;
  if (it != sizes_.end()) sizes_.erase(it);
  sizes_[q] = size;
  budget_->HeapUsed(static_cast<int64_t>(size) - static_cast<int64_t>(counted));
  return q;
}

void BudgetManager::BudgetHeap::Free(void* p) {
  if (p == nullptr) return;
  {
    std::lock_guard lock(mu_);
    auto it = sizes_.find(p);
    if (it != sizes_.end()) {
      budget_->HeapUsed(-static_cast<int64_t>(it->second));
      sizes_.erase(it);
    }
  }
  heap_->Free(p);
}

// ------------------------------------------------------------------------------------ Win32

VmResult BudgetManager::VirtualAlloc(uint64_t address, uint64_t size, uint32_t type,
                                     uint32_t protect, uint32_t level, uint64_t recorded) {
  AfterVm();
  if ((type & win32::kMemCommit) != 0) {
    const bool reserve = (type & win32::kMemReserve) != 0 || address == 0;
    const uint64_t page = platform_->page_size();
    uint64_t need = 0;
    if (reserve && address == 0) {
      need = (size + page - 1) & ~(page - 1);
    } else {
      const uint64_t start = address & ~(page - 1);
      const uint64_t last = address + size < address ? UINT64_MAX - page : address + size;
      const uint64_t end = (last + page - 1) & ~(page - 1);
      need = end > start ? (end - start) - platform_->CommittedIn(start, end) : 0;
    }
    if (need != 0 && !Admit(need, level)) return VmResult{0, win32::kErrorOutOfMemory};
  }
  const VmResult r = Manager::VirtualAlloc(address, size, type, protect, level, recorded);
  AfterVm();
  return r;
}

uint32_t BudgetManager::VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) {
  const uint32_t error = Manager::VirtualFree(address, size, free_type);
  AfterVm();
  return error;
}

sim::MemoryLoad BudgetManager::GetMemoryLoad() { return budget_pressure_.GetMemoryLoad(Used()); }

std::optional<sim::MemoryNotification> BudgetManager::PollNotification(uint64_t index) {
  AfterVm();
  return budget_pressure_.Update(Used(), index);
}

// ------------------------------------------------------------------------------------ POSIX

VmResult BudgetManager::Mmap(uint64_t address, uint64_t length, int prot, int flags,
                             uint64_t recorded) {
  using namespace linux_abi;
  AfterVm();
  if (prot != kProtNone && !SharedFile(flags)) {
    const uint64_t page = platform_->page_size();
    const uint64_t len = (length + page - 1) & ~(page - 1);
    const uint64_t have = (flags & kMapFixed) != 0 && len >= length
                              ? platform_->CommittedIn(address, address + len)
                              : 0;
    if (len > have && !Admit(len - have, 0)) return VmResult{0, static_cast<uint32_t>(kEnomem)};
  }
  const VmResult r = Manager::Mmap(address, length, prot, flags, recorded);
  AfterVm();
  return r;
}

uint32_t BudgetManager::Munmap(uint64_t address, uint64_t length) {
  const uint32_t error = Manager::Munmap(address, length);
  AfterVm();
  return error;
}

uint32_t BudgetManager::Mprotect(uint64_t address, uint64_t length, int prot) {
  AfterVm();
  if (prot != linux_abi::kProtNone) {
    const uint64_t page = platform_->page_size();
    const uint64_t len = (length + page - 1) & ~(page - 1);
    if (len >= length) {
      const uint64_t have = platform_->CommittedIn(address, address + len);
      if (len > have && !Admit(len - have, 0)) return static_cast<uint32_t>(linux_abi::kEnomem);
    }
  }
  const uint32_t error = Manager::Mprotect(address, length, prot);
  AfterVm();
  return error;
}

VmResult BudgetManager::Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                               uint64_t new_address, uint64_t recorded) {
  AfterVm();
  if (new_size > old_size && platform_->CommittedIn(address, address + old_size) != 0 &&
      !Admit(new_size - old_size, 0)) {
    return VmResult{0, static_cast<uint32_t>(linux_abi::kEnomem)};
  }
  const VmResult r = Manager::Mremap(address, old_size, new_size, flags, new_address, recorded);
  AfterVm();
  return r;
}

ManagerStats BudgetManager::stats() const {
  using Unit = ManagerFigure::Unit;
  std::lock_guard lock(mu_);
  ManagerStats s;
  s.figures.push_back({"budget limit", static_cast<double>(limit_), Unit::kBytes});
  s.figures.push_back({"budget peak used", static_cast<double>(peak_used_), Unit::kBytes});
  uint64_t refused = 0;
  for (int l = 0; l < kLevels; ++l) {
    s.figures.push_back(
        {std::string("refused ") + kLevelNames[l], static_cast<double>(refused_[l]), Unit::kCount});
    refused += refused_[l];
  }
  if (refused != 0) {
    std::string by_level;
    for (int l = 0; l < kLevels; ++l) {
      if (refused_[l] == 0) continue;
      by_level += (by_level.empty() ? "" : ", ") + std::to_string(refused_[l]) + " " +
                  kLevelNames[l] + " (" + FormatBytes(refused_bytes_[l]) + ")";
    }
    s.notes.push_back("budget: " + std::to_string(refused) + " request(s) refused past the " +
                      FormatBytes(limit_) + " budget: " + by_level);
  }
  return s;
}

}  // namespace vmreplay::replay
