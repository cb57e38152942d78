// Win32-mode operations and the shared machinery of AddressSpace (POSIX mode is in
// posix_address_space.cc).
#include "simulator/address_space.h"

#include <algorithm>
#include <cassert>

#include "simulator/error_policy.h"
#include "simulator/protection.h"
#include "simulator/win32_constants.h"

namespace vmreplay::sim {

using win32::kMemCommit;
using win32::kMemReserve;

AddressSpace::AddressSpace(const AddressSpaceConfig& config)
    : config_(config), free_(config.page_size, config.allocation_granularity) {
  assert(config.Validate().empty());
  if (config.placement == Placement::kBestFit) free_.EnableBestFit();
  free_.Free(config_.min_address, user_end());
  UpdateLayoutMetrics();
}

std::optional<uint64_t> AddressSpace::RangeEnd(uint64_t addr, uint64_t size) const {
  if (addr > user_end() || size > user_end() - addr) return std::nullopt;
  const uint64_t last = addr + size;  // <= user_end(), which is page aligned: no wrap below.
  return (last + config_.page_size - 1) & ~(config_.page_size - 1);
}

std::optional<uint64_t> AddressSpace::Place(uint64_t size, bool coarse, bool top_down,
                                            uint64_t hint, uint64_t recorded) {
  const uint64_t align = coarse ? config_.allocation_granularity : config_.page_size;
  auto usable = [&](uint64_t a) {
    return a % align == 0 && a >= config_.min_address && a <= user_end() &&
           size <= user_end() - a && free_.Contains(a, a + size);
  };
  if (config_.placement == Placement::kLayoutFaithful && recorded != 0) {
    if (usable(recorded)) return recorded;
    ++metrics_.placement_fallbacks;
  }
  if (hint != 0 && usable(hint)) return hint;
  if (top_down) return free_.FindHighest(size, coarse);
  switch (config_.placement) {
    case Placement::kBestFit:
      return free_.FindBestFit(size, coarse);
    case Placement::kNextFit: {
      std::optional<uint64_t> a = free_.FindLowestFrom(next_fit_, size, coarse);
      if (!a) a = free_.FindLowest(size, coarse);
      if (a) next_fit_ = *a + size;
      return a;
    }
    default:
      return free_.FindLowest(size, coarse);
  }
}

uint64_t AddressSpace::ChargedIn(uint64_t start, uint64_t end) const {
  uint64_t charged = 0;
  auto it = regions_.UpperBound(start);
  if (it != regions_.begin()) {
    auto prev = std::prev(it);
    if (prev->second.end > start) it = prev;
  }
  for (; it != regions_.end() && it->first < end; ++it) {
    if (!it->second.Charged()) continue;
    charged += std::min(it->second.end, end) - std::max(it->first, start);
  }
  return charged;
}

std::optional<std::pair<uint64_t, uint64_t>> AddressSpace::AllocationContaining(
    uint64_t addr) const {
  auto it = regions_.Find(addr);
  if (it == regions_.end()) return std::nullopt;
  return std::make_pair(it->second.allocation_base, AllocationEnd(it));
}

uint64_t AddressSpace::AllocationEnd(RegionMap::const_iterator it) const {
  const uint64_t allocation = it->second.allocation_base;
  uint64_t end = it->second.end;
  for (++it; it != regions_.end() && it->first == end && it->second.allocation_base == allocation;
       ++it) {
    end = it->second.end;
  }
  return end;
}

void AddressSpace::AddCommitted(uint64_t bytes) {
  metrics_.committed_bytes += bytes;
  if (metrics_.committed_bytes > metrics_.peak_committed_bytes) {
    metrics_.peak_committed_bytes = metrics_.committed_bytes;
    metrics_.peak_committed_event = event_index_;
  }
}

void AddressSpace::AddReserved(uint64_t bytes) {
  metrics_.reserved_bytes += bytes;
  if (metrics_.reserved_bytes > metrics_.peak_reserved_bytes) {
    metrics_.peak_reserved_bytes = metrics_.reserved_bytes;
    metrics_.peak_reserved_event = event_index_;
  }
}

void AddressSpace::UpdateLayoutMetrics() {
  metrics_.largest_free_block = free_.largest();
  metrics_.total_free = free_.total();
  metrics_.region_count = regions_.size();
  if (metrics_.largest_free_block < metrics_.min_largest_free_block) {
    metrics_.min_largest_free_block = metrics_.largest_free_block;
    metrics_.min_largest_free_block_event = event_index_;
  }
}

void AddressSpace::InsertAllocated(uint64_t start, const Region& region) {
  const uint64_t size = region.end - start;
  regions_.Insert(start, region);
  if (region.Counted()) AddReserved(size);
  if (region.Charged()) AddCommitted(size);
}

void AddressSpace::MapNew(uint64_t start, const Region& region) {
  free_.Allocate(start, region.end);
  InsertAllocated(start, region);
  UpdateLayoutMetrics();
}

void AddressSpace::Unmap(uint64_t start, uint64_t end) {
  // Releasing whole regions (MEM_RELEASE, munmap of a whole mapping) needs no split: start from
  // the region found by the caller's lookup (a finger hit) and split only when a boundary
  // straddles the range.
  auto first = regions_.Find(start);
  if (first == regions_.end() || first->first != start) {
    first = regions_.SplitRange(start, end);
  } else {
    auto it = first;
    while (it != regions_.end() && it->second.end <= end) ++it;
    if (it != regions_.end() && it->first < end) first = regions_.SplitRange(start, end);
  }
  auto last = first;
  uint64_t freed = 0;
  uint64_t uncharged = 0;
  uint64_t run_start = 0;
  uint64_t run_end = 0;
  for (; last != regions_.end() && last->first < end; ++last) {
    const uint64_t size = last->second.end - last->first;
    if (last->second.Counted()) freed += size;
    if (last->second.Charged()) uncharged += size;
    if (run_end != last->first) {
      if (run_end != 0) free_.Free(run_start, run_end);
      run_start = last->first;
    }
    run_end = last->second.end;
  }
  if (run_end != 0) free_.Free(run_start, run_end);
  regions_.Erase(first, last);
  regions_.Compact();
  SubReserved(freed);
  SubCommitted(uncharged);
  UpdateLayoutMetrics();
}

void AddressSpace::SetState(uint64_t start, uint64_t end, uint32_t state, uint32_t protect,
                            bool skip_uncharged) {
  auto account = [&](const Region& before, const Region& after, uint64_t size) {
    if (before.Charged() && !after.Charged()) SubCommitted(size);
    if (!before.Charged() && after.Charged()) AddCommitted(size);
  };
  auto it = regions_.Find(start);
  if (it != regions_.end() && it->second.end >= end) {
    // The range lies inside one region: the common case, handled without further searches.
    Region& r = it->second;
    if ((skip_uncharged && (r.uncharged || r.foreign)) ||
        (r.state == state && r.protect == protect)) {
      return;
    }
    Region changed = r;
    changed.state = state;
    changed.protect = protect;
    const bool at_start = it->first == start;
    const bool at_end = r.end == end;
    if (at_start != at_end) {
      // Move the boundary with the neighbour that already has the new attributes (growing or
      // shrinking a committed prefix): two stores, no structural change.
      if (at_start && it != regions_.begin()) {
        auto prev = std::prev(it);
        if (prev->second.end == start && prev->second.SameAttributes(changed)) {
          account(r, changed, end - start);
          prev->second.end = end;
          regions_.SetStart(it, end);
          return;
        }
      }
      if (at_end) {
        auto next = std::next(it);
        if (next != regions_.end() && next->first == end && next->second.SameAttributes(changed)) {
          account(r, changed, end - start);
          r.end = start;
          regions_.SetStart(next, start);
          return;
        }
      }
    }
    if (at_start && at_end && it != regions_.begin()) {
      // The whole region takes its neighbours' attributes (a protection toggled back): merge
      // all three with one erase.
      auto prev = std::prev(it);
      auto next = std::next(it);
      if (prev->second.end == start && prev->second.SameAttributes(changed) &&
          next != regions_.end() && next->first == end && next->second.SameAttributes(changed)) {
        account(r, changed, end - start);
        prev->second.end = next->second.end;
        regions_.Erase(it, std::next(next));
        metrics_.region_count = regions_.size();
        return;
      }
    }
    account(r, changed, end - start);
    auto mid = regions_.SplitWithin(it, start, end);
    mid->second.state = state;
    mid->second.protect = protect;
    regions_.CoalesceFrom(mid, end);
    metrics_.region_count = regions_.size();
    return;
  }
  auto first = regions_.SplitRange(start, end);
  for (auto i = first; i != regions_.end() && i->first < end; ++i) {
    Region& r = i->second;
    if (skip_uncharged && (r.uncharged || r.foreign)) continue;
    const Region before = r;
    r.state = state;
    r.protect = protect;
    account(before, r, r.end - i->first);
  }
  regions_.CoalesceFrom(first, end);
  metrics_.region_count = regions_.size();
}

AllocOutcome AddressSpace::VirtualAlloc(uint64_t address, uint64_t size, uint32_t allocation_type,
                                        uint32_t protect, uint64_t recorded_address) {
  constexpr uint32_t kKnownTypes = kMemCommit | kMemReserve | win32::kMemReset |
                                   win32::kMemResetUndo | win32::kMemTopDown |
                                   win32::kMemWriteWatch | win32::kMemLargePages;
  if (size == 0) return {0, Fail(errors::kAllocZeroSize)};
  if ((allocation_type & ~kKnownTypes) != 0) return {0, Fail(errors::kAllocBadType)};
  const bool reset = (allocation_type & (win32::kMemReset | win32::kMemResetUndo)) != 0;
  if (reset) {
    // MEM_RESET and MEM_RESET_UNDO "cannot be used with any other value".
    if (allocation_type != win32::kMemReset && allocation_type != win32::kMemResetUndo) {
      return {0, Fail(errors::kAllocBadType)};
    }
  } else {
    if ((allocation_type & (kMemCommit | kMemReserve)) == 0) {
      return {0, Fail(errors::kAllocBadType)};
    }
    // Write watch and large pages are properties of a new reservation.
    if ((allocation_type & (win32::kMemWriteWatch | win32::kMemLargePages)) != 0 &&
        (allocation_type & kMemReserve) == 0) {
      return {0, Fail(errors::kAllocBadType)};
    }
    // The protection of MEM_RESET calls is ignored (documented), so only checked here.
    if (!IsValidPrivateProtection(protect)) return {0, Fail(errors::kBadProtection)};
  }
  const bool commit = (allocation_type & kMemCommit) != 0;

  if (address == 0) {
    if (reset) return {0, Fail(errors::kAllocBadType)};
    // MEM_COMMIT without MEM_RESERVE at NULL reserves and commits, like MEM_RESERVE|MEM_COMMIT.
    if (size > user_end()) {
      ++metrics_.failed_reservations;
      metrics_.largest_failed_reservation = std::max(metrics_.largest_failed_reservation, size);
      return {0, Fail(errors::kAllocSizeBeyondUserSpace)};
    }
    const uint64_t bytes = (size + config_.page_size - 1) & ~(config_.page_size - 1);
    metrics_.largest_requested_reservation =
        std::max(metrics_.largest_requested_reservation, bytes);
    if (commit && CommitWouldExceed(bytes, 0)) {
      ++metrics_.commit_limit_failures;
      return {0, Fail(errors::kAllocCommitLimit)};
    }
    const bool top_down = (allocation_type & win32::kMemTopDown) != 0;
    std::optional<uint64_t> base = Place(bytes, /*coarse=*/true, top_down, 0, recorded_address);
    if (!base) {
      ++metrics_.failed_reservations;
      metrics_.largest_failed_reservation = std::max(metrics_.largest_failed_reservation, bytes);
      return {0, Fail(errors::kAllocNoAddressSpace)};
    }
    MapNew(*base, Region{*base + bytes, *base, protect, commit ? kMemCommit : kMemReserve,
                         commit ? protect : 0, win32::kMemPrivate, false});
    return {*base, 0};
  }

  // An explicit address: a reservation base is rounded down to the allocation granularity, a
  // commit or reset range to pages; the range covers every page touched by [address, +size).
  const bool reserve = (allocation_type & kMemReserve) != 0;
  const uint64_t start = reserve ? GranuleDown(address) : PageDown(address);
  std::optional<uint64_t> end = RangeEnd(address, size);
  if (!end || start < config_.min_address) return {0, Fail(errors::kAllocAddressOutOfRange)};

  if (reserve) {
    if (!free_.Contains(start, *end)) return {0, Fail(errors::kAllocConflictingAddresses)};
    if (commit && CommitWouldExceed(*end - start, 0)) {
      ++metrics_.commit_limit_failures;
      return {0, Fail(errors::kAllocCommitLimit)};
    }
    MapNew(start, Region{*end, start, protect, commit ? kMemCommit : kMemReserve,
                         commit ? protect : 0, win32::kMemPrivate, false});
    return {start, 0};
  }

  // MEM_COMMIT or MEM_RESET inside an existing reservation.
  uint64_t new_charge = 0;
  bool changes = false;
  const bool inside =
      Walk(start, *end, /*one_allocation=*/true, [&](uint64_t s, uint64_t e, const Region& r) {
        if (r.state != kMemCommit || r.protect != protect) changes = true;
        if (!r.Charged() && !r.uncharged && !r.foreign) new_charge += e - s;
      });
  if (!inside) return {0, Fail(errors::kAllocNotReserved)};
  if (reset) return {start, 0};  // Contents become undefined; state and accounting unchanged.
  if (CommitWouldExceed(new_charge, 0)) {
    ++metrics_.commit_limit_failures;
    return {0, Fail(errors::kAllocCommitLimit)};
  }
  if (changes) SetState(start, *end, kMemCommit, protect);
  return {start, 0};
}

uint32_t AddressSpace::VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) {
  if (free_type != win32::kMemDecommit && free_type != win32::kMemRelease) {
    return Fail(errors::kFreeBadType);
  }
  if (free_type == win32::kMemRelease && size != 0) return Fail(errors::kFreeReleaseNonZeroSize);
  if (address == 0 || address > config_.max_address) return Fail(errors::kFreeBadAddress);
  const uint64_t start = PageDown(address);
  auto it = regions_.Find(start);
  if (it == regions_.end()) return Fail(errors::kFreeNotAllocated);
  uint64_t end;
  bool changes = false;  // Some page would leave MEM_COMMIT (decommit only).
  if (size == 0) {
    // The kernel compares pages: any address in the allocation's first page names the base.
    if (start != it->second.allocation_base) return Fail(errors::kFreeNotAtBase);
    end = AllocationEnd(it);
    changes = true;  // Not known without a walk; SetState finds out cheaply.
  } else {
    std::optional<uint64_t> range_end = RangeEnd(address, size);
    if (!range_end) return Fail(errors::kFreeBeyondReservation);
    end = *range_end;
    if (!Walk(start, end, /*one_allocation=*/true, [&](uint64_t, uint64_t, const Region& r) {
          if (r.state != kMemReserve) changes = true;
        })) {
      return Fail(errors::kFreeBeyondReservation);
    }
  }
  if (free_type == win32::kMemRelease) {
    Unmap(start, end);
    return 0;
  }
  // Decommitting reserved pages is not an error; the map is untouched when nothing changes.
  if (changes) SetState(start, end, kMemReserve, 0);
  return 0;
}

uint32_t AddressSpace::VirtualProtect(uint64_t address, uint64_t size, uint32_t new_protect,
                                      uint32_t* old_protect) {
  if (old_protect == nullptr) return Fail(errors::kProtectNullOldProtect);
  if (!IsValidPrivateProtection(new_protect)) return Fail(errors::kBadProtection);
  if (address > config_.max_address) return Fail(errors::kProtectNotAllocated);
  const uint64_t start = PageDown(address);
  std::optional<uint64_t> end = RangeEnd(address, size);
  if (!end) return Fail(errors::kProtectNotAllocated);
  // One walk: the first page decides between "not allocated" and "not committed", the rest must
  // be committed pages of the same allocation.
  bool visited = false;
  bool committed = true;
  bool changes = false;
  uint32_t old = 0;
  const uint64_t walk_end = *end > start ? *end : start + config_.page_size;
  const bool inside =
      Walk(start, walk_end, /*one_allocation=*/true, [&](uint64_t, uint64_t, const Region& r) {
        if (!visited) old = r.protect;
        visited = true;
        if (r.state != kMemCommit) committed = false;
        if (r.protect != new_protect) changes = true;
      });
  if (!visited) return Fail(errors::kProtectNotAllocated);
  if (!committed) return Fail(errors::kProtectNotCommitted);
  if (!inside) return Fail(errors::kProtectNotAllocated);
  if (changes && *end > start) SetState(start, *end, kMemCommit, new_protect);
  *old_protect = old;
  return 0;
}

uint64_t AddressSpace::VirtualQuery(uint64_t address, MemoryBasicInformation* info,
                                    uint32_t* error) {
  auto fail = [&](uint32_t e) -> uint64_t {
    if (error != nullptr) *error = e;
    ++metrics_.failed_calls;
    return 0;
  };
  if (info == nullptr) return fail(errors::kQueryNullBuffer);
  if (address > config_.max_address) return fail(errors::kQueryBeyondLimit);
  const uint64_t page = PageDown(address);
  auto it = regions_.Find(page);
  if (it != regions_.end()) {
    const Region& r = it->second;
    *info = MemoryBasicInformation{
        page, r.allocation_base, r.allocation_protect, r.end - page, r.state, r.protect, r.type};
  } else {
    // Free: up to the next allocation or the end of user space.
    auto next = regions_.UpperBound(page);
    const uint64_t end = next != regions_.end() ? next->first : user_end();
    *info =
        MemoryBasicInformation{page, 0, 0, end - page, win32::kMemFree, win32::kPageNoAccess, 0};
  }
  if (error != nullptr) *error = 0;
  return config_.max_address <= 0xFFFFFFFFull ? win32::kMemoryBasicInformationSize32
                                              : win32::kMemoryBasicInformationSize64;
}

std::string AddressSpace::CheckInvariants() const {
  std::string error = regions_.CheckInvariants();
  if (!error.empty()) return "regions: " + error;
  error = free_.CheckInvariants();
  if (!error.empty()) return "free space: " + error;
  // Regions and free blocks must tile [min_address, user_end) exactly.
  uint64_t reserved = 0;
  uint64_t committed = 0;
  std::vector<std::pair<uint64_t, uint64_t>> used;
  for (const auto& [start, r] : regions_) {
    if (start < config_.min_address || r.end > user_end()) return "region outside user space";
    if (start % config_.page_size != 0 || r.end % config_.page_size != 0) {
      return "unaligned region";
    }
    if (r.Counted()) reserved += r.end - start;
    if (r.Charged()) committed += r.end - start;
    if (r.state != kMemCommit && r.protect != 0) return "reserved region with protection";
    if (!used.empty() && used.back().second == start) {
      used.back().second = r.end;
    } else {
      used.emplace_back(start, r.end);
    }
  }
  auto blocks = free_.Blocks();
  uint64_t cursor = config_.min_address;
  size_t u = 0;
  size_t b = 0;
  while (cursor < user_end()) {
    if (u < used.size() && used[u].first == cursor) {
      cursor = used[u++].second;
    } else if (b < blocks.size() && blocks[b].first == cursor) {
      cursor = blocks[b++].second;
    } else {
      return "hole in tiling at " + std::to_string(cursor);
    }
  }
  if (u != used.size() || b != blocks.size()) return "tiling overruns user space";
  if (reserved != metrics_.reserved_bytes) return "reserved_bytes mismatch";
  if (committed != metrics_.committed_bytes) return "committed_bytes mismatch";
  if (free_.total() != metrics_.total_free) return "total_free mismatch";
  if (free_.largest() != metrics_.largest_free_block) return "largest_free_block mismatch";
  if (regions_.size() != metrics_.region_count) return "region_count mismatch";
  return "";
}

}  // namespace vmreplay::sim
