// `sim`: the simulated address space (simulator/address_space.h). No real memory is touched;
// deterministic; layout-faithful (reservations where the trace put them) or the simulator's own
// placement (bottom-up, best-fit, next-fit); configurable address-space shape and commit limit.
#pragma once

#include <memory>

#include "replayer/platforms/platform.h"
#include "simulator/address_space.h"

namespace vmreplay::replay {

// Builds the simulator configuration `options` describe; error for an unknown shape/placement.
Status MakeSimConfig(const PlatformOptions& options, sim::AddressSpaceConfig* out);
// The placement policy named `name` (faithful, bottom-up, best-fit, next-fit).
Status ParsePlacement(const std::string& name, sim::Placement* out);

class SimPlatform final : public Platform {
 public:
  explicit SimPlatform(const sim::AddressSpaceConfig& config,
                       const std::vector<ForeignMapping>& foreign = {});
  std::string_view name() const override { return "sim"; }
  CompareMode compare_mode() const override {
    return space_.config().placement == sim::Placement::kLayoutFaithful ? CompareMode::kExact
                                                                        : CompareMode::kErrorCode;
  }
  bool identity_addresses() const override { return true; }

  uint64_t VirtualQuery(uint64_t address, sim::MemoryBasicInformation* info,
                        uint32_t* error) override {
    return space_.VirtualQuery(address, info, error);
  }
  uint64_t CommittedIn(uint64_t start, uint64_t end) const override {
    return space_.ChargedIn(start, end);
  }
  std::pair<uint64_t, uint64_t> user_range() const override {
    return {space_.config().min_address, space_.config().max_address};
  }
  uint64_t commit_limit() const override { return space_.config().commit_limit; }
  uint64_t page_size() const override { return space_.config().page_size; }
  uint64_t allocation_granularity() const override {
    return space_.config().allocation_granularity;
  }
  void set_event_index(uint64_t index) override { space_.set_event_index(index); }
  uint64_t committed_bytes() const override { return space_.metrics().committed_bytes; }
  uint64_t reserved_bytes() const override { return space_.metrics().reserved_bytes; }
  std::optional<double> fragmentation() const override { return space_.metrics().fragmentation(); }

  const sim::AddressSpace& space() const { return space_; }

 protected:
  VmResult DoVirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                          uint64_t recorded_address) override {
    const sim::AllocOutcome o = space_.VirtualAlloc(address, size, type, protect, recorded_address);
    return VmResult{o.address, o.error};
  }
  uint32_t DoVirtualFree(uint64_t address, uint64_t size, uint32_t free_type) override {
    return space_.VirtualFree(address, size, free_type);
  }
  uint32_t DoVirtualProtect(uint64_t address, uint64_t size, uint32_t protect,
                            uint32_t* old_protect) override {
    return space_.VirtualProtect(address, size, protect, old_protect);
  }
  VmResult DoMmap(uint64_t address, uint64_t length, int prot, int flags,
                  uint64_t recorded_address) override {
    const auto o = space_.Mmap(address, length, prot, flags, recorded_address);
    return VmResult{o.address, static_cast<uint32_t>(o.error)};
  }
  uint32_t DoMunmap(uint64_t address, uint64_t length) override {
    return static_cast<uint32_t>(space_.Munmap(address, length));
  }
  uint32_t DoMprotect(uint64_t address, uint64_t length, int prot) override {
    return static_cast<uint32_t>(space_.Mprotect(address, length, prot));
  }
  uint32_t DoMadvise(uint64_t address, uint64_t length, int advice) override {
    return static_cast<uint32_t>(space_.Madvise(address, length, advice));
  }
  VmResult DoMremap(uint64_t address, uint64_t old_size, uint64_t new_size, int flags,
                    uint64_t new_address, uint64_t recorded_address) override {
    const auto o = space_.Mremap(address, old_size, new_size, flags, new_address, recorded_address);
    return VmResult{o.address, static_cast<uint32_t>(o.error)};
  }
  void DoAdviseHugePages(uint64_t, uint64_t) override {}  // Counted only: no pages here.
  PlatformStats DoStats() const override;

 private:
  sim::AddressSpace space_;
  uint64_t foreign_mappings_ = 0;
  uint64_t foreign_bytes_ = 0;
  uint64_t foreign_skipped_ = 0;
};

// Copies the simulator's accounting into PlatformStats (also the os platform's shadow).
PlatformStats StatsFromSim(const sim::Metrics& m, uint64_t commit_limit);

}  // namespace vmreplay::replay
