// Shape of a simulated user address space: page size, allocation granularity, bounds, limits and
// the placement policy for reservations whose address the simulator chooses.
#ifndef VMREPLAY_SIMULATOR_ADDRESS_SPACE_CONFIG_H_
#define VMREPLAY_SIMULATOR_ADDRESS_SPACE_CONFIG_H_

#include <cstdint>
#include <string>

namespace vmreplay::sim {

// Where NULL-address reservations (VirtualAlloc(NULL, ...), mmap without MAP_FIXED) go.
enum class Placement {
  // The simulator's own policy: lowest free address on the allocation granularity that fits
  // (highest with MEM_TOP_DOWN). Deterministic and independent of the recording machine.
  kBottomUp,
  // Place at the address the recorded call returned when that range is free here; otherwise fall
  // back to kBottomUp's policy and count a placement fallback (Metrics::placement_fallbacks).
  kLayoutFaithful,
  // The free block with the fewest usable bytes that fits (the lowest on ties): keeps large
  // blocks whole at the price of slivers.
  kBestFit,
  // First fit from where the previous placement ended, wrapping around at the top: spreads
  // allocations over the space instead of crowding its bottom.
  kNextFit,
};

struct AddressSpaceConfig {
  uint64_t page_size = 4096;                // Power of two.
  uint64_t allocation_granularity = 65536;  // Power of two, multiple of page_size.
  // Lowest usable address (Windows: 64 KiB, the NULL-pointer region is never allocatable).
  uint64_t min_address = 0x10000;
  // Highest usable byte, inclusive, like SYSTEM_INFO::lpMaximumApplicationAddress. max_address + 1
  // must be page aligned.
  uint64_t max_address = 0x7FFFFFFEFFFF;
  // Bytes that may be committed at once; commits beyond fail (ERROR_COMMITMENT_LIMIT / ENOMEM).
  uint64_t commit_limit = UINT64_MAX;
  // Physical memory of the simulated machine, for the memory-load model.
  uint64_t physical_memory = 16ull << 30;
  Placement placement = Placement::kBottomUp;
  // Linux places mmap regions top-down from below the stack; when true, POSIX-mode placement
  // searches from the top (like MEM_TOP_DOWN), else from the bottom.
  bool mmap_top_down = true;

  // 32-bit process on 32-bit Windows, default 2 GiB user space (0x10000 .. 0x7FFEFFFF).
  static AddressSpaceConfig Win32_2GiB();
  // 32-bit large-address-aware process with /3GB (0x10000 .. 0xBFFEFFFF).
  static AddressSpaceConfig Win32_3GiB();
  // 32-bit large-address-aware process under WOW64 (0x10000 .. 0xFFFEFFFF).
  static AddressSpaceConfig Win32_4GiB();
  // 64-bit process on Windows 8.1 and later: 128 TiB (0x10000 .. 0x7FFFFFFEFFFF).
  static AddressSpaceConfig Win64();
  // x86-64 Linux process with 4-level page tables: page granularity, 0x10000 (default
  // vm.mmap_min_addr) .. 0x7FFFFFFFEFFF (TASK_SIZE minus the guard page).
  static AddressSpaceConfig Linux64();

  // Returns an empty string when the configuration is usable, else what is wrong with it.
  std::string Validate() const;
};

}  // namespace vmreplay::sim

#endif  // VMREPLAY_SIMULATOR_ADDRESS_SPACE_CONFIG_H_
