#include "simulator/memory_pressure.h"

#include <cassert>

namespace vmreplay::sim {

std::string MemoryPressureConfig::Validate() const {
  if (physical_memory == 0) return "physical_memory must be > 0";
  if (low_enter_percent > 100 || high_exit_percent > 100) return "percentages must be <= 100";
  if (!(high_enter_percent <= high_exit_percent && high_exit_percent < low_exit_percent &&
        low_exit_percent <= low_enter_percent)) {
    return "need high_enter <= high_exit < low_exit <= low_enter";
  }
  return "";
}

MemoryPressureModel::MemoryPressureModel(const MemoryPressureConfig& config) : config_(config) {
  assert(config.Validate().empty());
}

MemoryLoad MemoryPressureModel::GetMemoryLoad(uint64_t committed_bytes) const {
  const uint64_t physical = config_.physical_memory;
  uint64_t in_use = committed_bytes + config_.background_load_bytes;
  if (in_use < committed_bytes || in_use > physical) in_use = physical;  // Overflow or overcommit.
  // floor(100 * in_use / physical); exact below 184 PB of physical memory, approximate above.
  const uint32_t load = static_cast<uint32_t>(
      physical <= UINT64_MAX / 100 ? in_use * 100 / physical : in_use / (physical / 100));
  return MemoryLoad{load, physical - in_use};
}

std::optional<MemoryNotification> MemoryPressureModel::Update(uint64_t committed_bytes,
                                                              uint64_t event_index) {
  const uint32_t load = GetMemoryLoad(committed_bytes).load_percent;
  MemoryAvailable next = state_;
  switch (state_) {
    case MemoryAvailable::kNeutral:
      if (load >= config_.low_enter_percent) {
        next = MemoryAvailable::kLow;
      } else if (load <= config_.high_enter_percent) {
        next = MemoryAvailable::kHigh;
      }
      break;
    case MemoryAvailable::kLow:
      if (load <= config_.high_enter_percent) {
        next = MemoryAvailable::kHigh;
      } else if (load < config_.low_exit_percent) {
        next = MemoryAvailable::kNeutral;
      }
      break;
    case MemoryAvailable::kHigh:
      if (load >= config_.low_enter_percent) {
        next = MemoryAvailable::kLow;
      } else if (load > config_.high_exit_percent) {
        next = MemoryAvailable::kNeutral;
      }
      break;
  }
  if (next == state_) return std::nullopt;
  state_ = next;
  switch (next) {
    case MemoryAvailable::kLow:
      ++low_count_;
      break;
    case MemoryAvailable::kNeutral:
      ++neutral_count_;
      break;
    case MemoryAvailable::kHigh:
      ++high_count_;
      break;
  }
  return MemoryNotification{next, event_index, load};
}

}  // namespace vmreplay::sim
