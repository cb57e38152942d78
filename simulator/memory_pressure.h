// What GetMemoryLoad would answer and which ICLRMemoryNotificationCallback notifications the host
// would deliver, given the simulated commit.
//
// Model: the machine has `physical_memory` bytes; memory in use is the simulated committed bytes
// plus a constant `background_load_bytes` (other processes, the OS). GetMemoryLoad reports
// MEMORYSTATUSEX-like figures: dwMemoryLoad = floor(100 * in_use / physical), capped at 100, and
// available = physical - in_use (0 when over-committed).
//
// Notifications follow a three-state machine with hysteresis so a load oscillating around a
// threshold does not produce a storm of callbacks:
//   Neutral -> Low     when load >= low_enter_percent
//   Low     -> Neutral when load <  low_exit_percent   (low_exit_percent <= low_enter_percent)
//   Neutral -> High    when load <= high_enter_percent
//   High    -> Neutral when load >  high_exit_percent  (high_exit_percent >= high_enter_percent)
//   Low <-> High directly when the load jumps across both bands (one notification).
// A notification is produced only on a state change, in event order. The model starts in Neutral
// and produces no notification before the first Update.
#ifndef VMREPLAY_SIMULATOR_MEMORY_PRESSURE_H_
#define VMREPLAY_SIMULATOR_MEMORY_PRESSURE_H_

#include <cstdint>
#include <optional>
#include <string>

namespace vmreplay::sim {

// EMemoryAvailable values passed to ICLRMemoryNotificationCallback::OnMemoryNotification.
enum class MemoryAvailable : uint32_t {
  kLow = 1,      // eMemoryAvailableLow
  kNeutral = 2,  // eMemoryAvailableNeutral
  kHigh = 3,     // eMemoryAvailableHigh
};

struct MemoryPressureConfig {
  uint64_t physical_memory = 16ull << 30;
  uint64_t background_load_bytes = 0;
  uint32_t low_enter_percent = 90;
  uint32_t low_exit_percent = 85;
  uint32_t high_enter_percent = 40;
  uint32_t high_exit_percent = 50;

  // Empty string when usable: physical_memory > 0, percents <= 100,
  // high_enter <= high_exit < low_exit <= low_enter.
  std::string Validate() const;
};

struct MemoryLoad {
  uint32_t load_percent = 0;     // dwMemoryLoad, 0..100.
  uint64_t available_bytes = 0;  // *pAvailableBytes.
  bool operator==(const MemoryLoad&) const = default;
};

struct MemoryNotification {
  MemoryAvailable level = MemoryAvailable::kNeutral;
  uint64_t event_index = 0;
  uint32_t load_percent = 0;
  bool operator==(const MemoryNotification&) const = default;
};

class MemoryPressureModel {
 public:
  // REQUIRES: config.Validate() is empty.
  explicit MemoryPressureModel(const MemoryPressureConfig& config);

  // IHostMemoryManager::GetMemoryLoad for `committed_bytes` of simulated commit. Pure.
  MemoryLoad GetMemoryLoad(uint64_t committed_bytes) const;

  // Feeds the commit after event `event_index`; returns the notification the host would deliver
  // now, if the state changed.
  std::optional<MemoryNotification> Update(uint64_t committed_bytes, uint64_t event_index);

  MemoryAvailable state() const { return state_; }
  uint64_t low_count() const { return low_count_; }
  uint64_t neutral_count() const { return neutral_count_; }
  uint64_t high_count() const { return high_count_; }
  const MemoryPressureConfig& config() const { return config_; }

 private:
  MemoryPressureConfig config_;
  MemoryAvailable state_ = MemoryAvailable::kNeutral;
  uint64_t low_count_ = 0;
  uint64_t neutral_count_ = 0;
  uint64_t high_count_ = 0;
};

}  // namespace vmreplay::sim

#endif  // VMREPLAY_SIMULATOR_MEMORY_PRESSURE_H_
