// Figures an AddressSpace maintains exactly and incrementally (O(1) per operation on top of the
// operation itself), and a bounded-memory recorder of commit over time.
//
// Definitions (the project README quotes these):
//   committed_bytes      bytes in MEM_COMMIT state charged against the commit limit (POSIX: pages
//                        accessible in private or anonymous mappings).
//   reserved_bytes       bytes of address space in use: reserved + committed (POSIX: mapped).
//   peak_*_bytes/event   the highest value reached, and the event index (set_event_index) of the
//                        first operation that reached it.
//   largest_free_block   largest free range of the user address space, in bytes.
//   total_free           free bytes of the user address space.
//   fragmentation()      1 - largest_free_block / total_free; 0 when nothing is free.
//   min_largest_free_block / _event  the smallest largest_free_block ever seen after an operation:
//                        the tightest the address space got for one more big reservation.
//   failed_reservations  NULL-address reservations (VirtualAlloc, mmap) that failed for lack of a
//                        large enough free block; largest_failed_reservation is the biggest size.
#ifndef VMREPLAY_SIMULATOR_METRICS_H_
#define VMREPLAY_SIMULATOR_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vmreplay::sim {

struct Metrics {
  uint64_t committed_bytes = 0;
  uint64_t peak_committed_bytes = 0;
  uint64_t peak_committed_event = 0;
  uint64_t reserved_bytes = 0;
  uint64_t peak_reserved_bytes = 0;
  uint64_t peak_reserved_event = 0;
  uint64_t largest_free_block = 0;
  uint64_t total_free = 0;
  uint64_t min_largest_free_block = UINT64_MAX;
  uint64_t min_largest_free_block_event = 0;
  uint64_t region_count = 0;  // Allocated regions as VirtualQuery would enumerate them.
  uint64_t failed_reservations = 0;
  uint64_t largest_failed_reservation = 0;
  uint64_t largest_requested_reservation = 0;  // Largest NULL-address reservation asked for.
  uint64_t commit_limit_failures = 0;          // Calls refused by the commit limit.
  uint64_t failed_calls = 0;                   // Calls that returned an error, any reason.
  uint64_t placement_fallbacks = 0;            // kLayoutFaithful: recorded address unusable here.

  double fragmentation() const {
    return total_free == 0
               ? 0.0
               : 1.0 - static_cast<double>(largest_free_block) / static_cast<double>(total_free);
  }
};

// Commit (or any value) over time in bounded memory: one sample per bucket of `stride` events,
// keeping the bucket's maximum so no peak is lost; when `max_samples` buckets are used, adjacent
// buckets are merged (max of the two) and the stride doubles. Record is O(1) amortized.
class CommitTimeline {
 public:
  struct Sample {
    uint64_t first_event = 0;  // First event index of the bucket.
    uint64_t max_value = 0;    // Highest value recorded in the bucket.
    uint64_t last_value = 0;   // Value at the last event recorded in the bucket.
  };

  // REQUIRES: max_samples >= 2 and even.
  explicit CommitTimeline(size_t max_samples = 4096, uint64_t initial_stride = 1);

  // Records `value` at `event_index`. REQUIRES: event indices non-decreasing.
  void Record(uint64_t event_index, uint64_t value);

  const std::vector<Sample>& samples() const { return samples_; }
  uint64_t stride() const { return stride_; }

 private:
  void Compact();

  size_t max_samples_;
  uint64_t stride_;
  std::vector<Sample> samples_;
};

}  // namespace vmreplay::sim

#endif  // VMREPLAY_SIMULATOR_METRICS_H_
