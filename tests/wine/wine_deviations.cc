#include "tests/wine/wine_deviations.h"

#include "simulator/win32_constants.h"

namespace vmreplay::wine_test {
namespace {

using namespace vmreplay::win32;

bool ValidProtection(uint32_t p) {
  const uint32_t base = p & 0xff;
  const uint32_t modifiers = p & ~uint32_t{0xff};
  const bool one_base = base != 0 && (base & (base - 1)) == 0;
  return one_base && (modifiers & ~(kPageGuard | kPageNoCache | kPageWriteCombine)) == 0;
}

// VirtualProtect on a range not inside one allocation (starting in free memory, or crossing
// into free memory or another reservation).
bool ProtectUnallocated(const Event& e, const SimOutcome& sim, const Context& before) {
  return e.op == Op::kVirtualProtect && !before.in_one_allocation &&
         e.error == kErrorInvalidParameter && sim.error == kErrorInvalidAddress;
}

// VirtualFree (MEM_DECOMMIT or MEM_RELEASE) whose address is not in any allocation, including
// a second release of the same reservation.
bool FreeUnallocated(const Event& e, const SimOutcome& sim, const Context& before) {
  return e.op == Op::kVirtualFree && (e.flags == kMemDecommit || e.flags == kMemRelease) &&
         before.start_free && e.error == kErrorInvalidParameter &&
         sim.error == kErrorInvalidAddress;
}

// MEM_RESET together with MEM_COMMIT / MEM_RESERVE: Wine ignores MEM_RESET and fails as the
// plain commit / reserve would (the oracle aims these where that fails).
bool ResetCombined(const Event& e, const SimOutcome& sim, const Context&) {
  return e.op == Op::kVirtualAlloc && (e.flags & kMemReset) != 0 &&
         (e.flags & (kMemCommit | kMemReserve)) != 0 && e.result == 0 &&
         e.error == kErrorInvalidAddress && sim.result == 0 && sim.error == kErrorInvalidParameter;
}

// MEM_RESET with an invalid flProtect: Wine ignores flProtect entirely and succeeds. MEM_RESET
// changes no state, so the two address spaces stay identical.
bool ResetInvalidProtection(const Event& e, const SimOutcome& sim, const Context&) {
  return e.op == Op::kVirtualAlloc && e.flags == kMemReset && !ValidProtection(e.protect) &&
         e.result != 0 && e.error == 0 && sim.result == 0 && sim.error == kErrorInvalidParameter;
}

// VirtualQuery in a MEM_RESERVE run: Wine ends the region where the pages' remembered
// protection changes; everything else in the answer must agree.
bool ReservedRegionSplit(const Event& e, const SimOutcome& sim, const Context& context) {
  const sim::MemoryBasicInformation& i = sim.info;
  return e.op == Op::kVirtualQuery && e.error == 0 && sim.error == 0 && e.result == sim.result &&
         e.q_state == kMemReserve && i.state == kMemReserve && e.q_base == i.base_address &&
         e.q_alloc_base == i.allocation_base && e.q_alloc_protect == i.allocation_protect &&
         e.q_protect == i.protect && e.q_type == i.type && e.q_region_size < i.region_size &&
         e.q_region_size == context.wine_protection_run;
}

constexpr WineDeviation kDeviations[] = {
    {"protect-unallocated",
     "VirtualProtect on a range not inside one reservation fails with ERROR_INVALID_PARAMETER "
     "(Wine 8 NtProtectVirtualMemory: no view covers the range -> STATUS_INVALID_PARAMETER)",
     "Windows: STATUS_CONFLICTING_ADDRESSES / STATUS_MEMORY_NOT_ALLOCATED, which "
     "RtlNtStatusToDosError maps to ERROR_INVALID_ADDRESS (487); simulator/error_policy.h "
     "kProtectNotAllocated",
     ProtectUnallocated},
    {"free-unallocated",
     "VirtualFree(MEM_DECOMMIT or MEM_RELEASE) at an address in free memory (including a double "
     "release) fails with ERROR_INVALID_PARAMETER",
     "Windows: NtFreeVirtualMemory returns STATUS_MEMORY_NOT_ALLOCATED (ReactOS "
     "apitests/ntdll/NtAllocateVirtualMemory.c, which passes on Windows), mapped to "
     "ERROR_INVALID_ADDRESS (487); simulator/error_policy.h kFreeNotAllocated",
     FreeUnallocated},
    {"reset-combined",
     "VirtualAlloc(MEM_RESET | MEM_COMMIT or MEM_RESERVE) is treated as the plain commit / "
     "reserve (here failing with ERROR_INVALID_ADDRESS)",
     "VirtualAlloc documentation, MEM_RESET: \"This value cannot be used with any other "
     "value.\" -> ERROR_INVALID_PARAMETER (87)",
     ResetCombined},
    {"reset-invalid-protection", "VirtualAlloc(MEM_RESET) with an invalid flProtect (0) succeeds",
     "VirtualAlloc documentation / KB Q162104: with MEM_RESET flProtect is ignored \"However, "
     "you must still set flProtect to a valid protection value\" -> ERROR_INVALID_PARAMETER",
     ResetInvalidProtection},
    {"reserved-region-split",
     "VirtualQuery splits a MEM_RESERVE run where the protection the pages had before they were "
     "decommitted (or the reservation's flProtect, for never-committed pages) changes",
     "MEMORY_BASIC_INFORMATION documentation: RegionSize is the run of pages with identical "
     "attributes, and reserved pages report Protect 0 (Wine's own kernel32 virtual tests: \"NT "
     "reports Protect == 0 for a not committed memory block\"); Windows keeps no per-page "
     "protection for decommitted pages, so the whole reserved run is one region",
     ReservedRegionSplit},
};

}  // namespace

void InspectBefore(sim::AddressSpace& space, const Event& e, Context* context) {
  Context& s = *context;
  const uint64_t page = space.config().page_size;
  const uint64_t start = e.addr & ~(page - 1);
  sim::MemoryBasicInformation info;
  uint32_t error = 0;
  if (start > space.config().max_address || space.VirtualQuery(start, &info, &error) == 0 ||
      info.state == kMemFree) {
    s.start_free = true;
    return;
  }
  // Walk the regions of the allocation containing `start` until the range's end (at least the
  // page holding addr; saturating, as sizes may be huge).
  const uint64_t size = e.size == 0 ? 1 : e.size;
  const uint64_t end = size > UINT64_MAX - e.addr ? UINT64_MAX : e.addr + size;
  const uint64_t allocation = info.allocation_base;
  uint64_t cursor = info.base_address + info.region_size;
  while (cursor < end) {
    if (space.VirtualQuery(cursor, &info, &error) == 0 || info.state == kMemFree ||
        info.allocation_base != allocation) {
      return;
    }
    cursor = info.base_address + info.region_size;
  }
  s.in_one_allocation = true;
}

std::span<const WineDeviation> KnownWineDeviations() { return kDeviations; }

}  // namespace vmreplay::wine_test
