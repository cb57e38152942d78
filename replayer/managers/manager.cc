// The base Manager: the passthrough policy every built-in manager starts from.
#include "replayer/managers/manager.h"

namespace vmreplay::replay {
namespace {

sim::MemoryPressureConfig MachinePressure(uint64_t physical_memory) {
  sim::MemoryPressureConfig c;
  c.physical_memory = physical_memory;
  return c;
}

}  // namespace

Manager::Manager(const ManagerContext& context)
    : platform_(context.platform),
      heap_(context.heap),
      windows_(context.windows),
      pressure_(MachinePressure(context.physical_memory)) {}

VmResult Manager::VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                               uint32_t, uint64_t recorded_address) {
  return platform_->VirtualAlloc(address, size, type, protect, recorded_address);
}

uint32_t Manager::VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) {
  return platform_->VirtualFree(address, size, free_type);
}

uint32_t Manager::VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                                 uint32_t* old_protect) {
  return platform_->VirtualProtect(address, size, protect, old_protect);
}

uint64_t Manager::VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                               uint32_t* error) {
  return platform_->VirtualQuery(address, info, error);
}

sim::MemoryLoad Manager::GetMemoryLoad() {
  return pressure_.GetMemoryLoad(platform_->committed_bytes());
}

bool Manager::NeedsVirtualAddressSpace(uint64_t, uint64_t) { return false; }
void Manager::AcquiredVirtualAddressSpace(uint64_t, uint64_t) {}
void Manager::ReleasedVirtualAddressSpace(uint64_t) {}

std::optional<sim::MemoryNotification> Manager::PollNotification(uint64_t index) {
  return pressure_.Update(platform_->committed_bytes(), index);
}

VmResult Manager::Mmap(uint64_t address, uint64_t length, int prot, int flags,
                       uint64_t recorded_address) {
  return platform_->Mmap(address, length, prot, flags, recorded_address);
}

uint32_t Manager::Munmap(uint64_t address, uint64_t length) {
  return platform_->Munmap(address, length);
}

uint32_t Manager::Mprotect(uint64_t address, uint64_t length, int prot) {
  return platform_->Mprotect(address, length, prot);
}

uint32_t Manager::Madvise(uint64_t address, uint64_t length, int advice) {
  return platform_->Madvise(address, length, advice);
}

VmResult Manager::Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                         uint64_t new_address, uint64_t recorded_address) {
  return platform_->Mremap(address, old_size, new_size, flags, new_address, recorded_address);
}

}  // namespace vmreplay::replay
