// `sim`: the simulated address space (simulator/address_space.h). No real memory is touched;
// deterministic; layout-faithful (reservations where the trace put them) or bottom-up placement;
// configurable address-space shape and commit limit.
#pragma once

#include <memory>

#include "replayer/vm_backend.h"
#include "simulator/address_space.h"

namespace vmreplay::replay {

// Builds the simulator configuration `options` describe; error for an unknown shape/placement.
Status MakeSimConfig(const VmBackendOptions& options, sim::AddressSpaceConfig* out);

class SimBackend final : public VmBackend {
 public:
  explicit SimBackend(const sim::AddressSpaceConfig& config) : space_(config) {}
  std::string_view name() const override { return "sim"; }
  CompareMode compare_mode() const override {
    return space_.config().placement == sim::Placement::kLayoutFaithful ? CompareMode::kExact
                                                                        : CompareMode::kErrorCode;
  }
  bool identity_addresses() const override { return true; }

  VmResult VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                        uint64_t recorded_address) override {
    const sim::AllocOutcome o = space_.VirtualAlloc(address, size, type, protect, recorded_address);
    return VmResult{o.address, o.error};
  }
  uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) override {
    return space_.VirtualFree(address, size, free_type);
  }
  uint32_t VirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                          uint32_t* old_protect) override {
    return space_.VirtualProtect(address, size, protect, old_protect);
  }
  uint64_t VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                        uint32_t* error) override {
    return space_.VirtualQuery(address, info, error);
  }
  VmResult Mmap(uint64_t address, uint64_t length, int prot, int flags,
                uint64_t recorded_address) override {
    const auto o = space_.Mmap(address, length, prot, flags, recorded_address);
    return VmResult{o.address, static_cast<uint32_t>(o.error)};
  }
  uint32_t Munmap(uint64_t address, uint64_t length) override {
    return static_cast<uint32_t>(space_.Munmap(address, length));
  }
  uint32_t Mprotect(uint64_t address, uint64_t length, int prot) override {
    return static_cast<uint32_t>(space_.Mprotect(address, length, prot));
  }
  uint32_t Madvise(uint64_t address, uint64_t length, int advice) override {
    return static_cast<uint32_t>(space_.Madvise(address, length, advice));
  }
  VmResult Mremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                  uint64_t new_address, uint64_t recorded_address) override {
    const auto o = space_.Mremap(address, old_size, new_size, flags, new_address, recorded_address);
    return VmResult{o.address, static_cast<uint32_t>(o.error)};
  }

  void set_event_index(uint64_t index) override { space_.set_event_index(index); }
  uint64_t committed_bytes() const override { return space_.metrics().committed_bytes; }
  std::optional<double> fragmentation() const override { return space_.metrics().fragmentation(); }
  VmStats stats() const override;

  const sim::AddressSpace& space() const { return space_; }

 private:
  sim::AddressSpace space_;
};

// Copies the simulator's accounting into VmStats (shared by the backends that keep a shadow).
VmStats StatsFromSim(const sim::Metrics& m);

}  // namespace vmreplay::replay
