// POSIX-mode (Linux mmap family) operations of AddressSpace.
//
// Model: an accessible page is MEM_COMMIT with the Win32 protection equivalent to its PROT_* bits,
// a PROT_NONE page is MEM_RESERVE; every mmap call starts a new allocation (allocation base = its
// start, MEM_PRIVATE when anonymous, MEM_MAPPED when file-backed). The errno values follow the
// Linux man pages (mmap(2), munmap(2), mprotect(2), madvise(2), mremap(2)).
#include <algorithm>
#include <vector>

#include "simulator/address_space.h"
#include "simulator/posix_constants.h"
#include "simulator/protection.h"
#include "simulator/win32_constants.h"

namespace vmreplay::sim {

namespace la = linux_abi;

namespace {

constexpr int kProtMask = la::kProtRead | la::kProtWrite | la::kProtExec;

bool IsKnownAdvice(int advice) {
  return (advice >= la::kMadvNormal && advice <= la::kMadvPopulateWrite &&
          (advice < 5 || advice > 7)) ||  // 5..7 are unassigned.
         advice == la::kMadvHwPoison ||
         advice == la::kMadvSoftOffline;
}

}  // namespace

bool AddressSpace::PlaceForeign(uint64_t start, uint64_t length, int prot, bool shared, bool file) {
  if (length == 0 || start % config_.page_size != 0 || length % config_.page_size != 0 ||
      start < config_.min_address || start > user_end() || length > user_end() - start ||
      !free_.Contains(start, start + length)) {
    return false;
  }
  const uint32_t protect = ProtectionFromPosix(prot & kProtMask);
  const bool accessible = (prot & kProtMask) != 0;
  Region region{start + length,
                start,
                protect,
                accessible ? win32::kMemCommit : win32::kMemReserve,
                accessible ? protect : 0,
                file ? win32::kMemMapped : win32::kMemPrivate,
                shared && file};
  region.foreign = true;
  MapNew(start, region);
  return true;
}

AddressSpace::MmapOutcome AddressSpace::Mmap(uint64_t addr, uint64_t length, int prot, int flags,
                                             uint64_t recorded_address) {
  if (length == 0) return {0, FailErrno(la::kEinval)};
  const int map_type = flags & la::kMapTypeMask;
  if (map_type != la::kMapShared && map_type != la::kMapPrivate &&
      map_type != la::kMapSharedValidate) {
    return {0, FailErrno(la::kEinval)};
  }
  if ((prot & ~kProtMask) != 0) return {0, FailErrno(la::kEinval)};
  const bool fixed = (flags & la::kMapFixed) != 0;
  const bool no_replace = (flags & la::kMapFixedNoReplace) != 0;
  if (length > user_end()) {
    if (!fixed && !no_replace) {
      ++metrics_.failed_reservations;
      metrics_.largest_failed_reservation = std::max(metrics_.largest_failed_reservation, length);
    }
    return {0, FailErrno(la::kEnomem)};
  }
  const uint64_t len = (length + config_.page_size - 1) & ~(config_.page_size - 1);

  const bool anonymous = (flags & la::kMapAnonymous) != 0;
  const bool shared = map_type != la::kMapPrivate;
  const bool accessible = (prot & kProtMask) != 0;
  const uint32_t protect = ProtectionFromPosix(prot);
  Region region{0,
                0,
                protect,
                accessible ? win32::kMemCommit : win32::kMemReserve,
                accessible ? protect : 0,
                anonymous ? win32::kMemPrivate : win32::kMemMapped,
                shared && !anonymous};
  const uint64_t charge = region.Charged() ? len : 0;

  if (fixed || no_replace) {
    if (addr % config_.page_size != 0) return {0, FailErrno(la::kEinval)};
    if (addr < config_.min_address) return {0, FailErrno(la::kEperm)};
    if (addr > user_end() || len > user_end() - addr) return {0, FailErrno(la::kEnomem)};
    const uint64_t end = addr + len;
    // MAP_FIXED_NOREPLACE wins over MAP_FIXED when both are given (Linux checks it first).
    if (no_replace && !free_.Contains(addr, end)) return {0, FailErrno(la::kEexist)};
    const uint64_t replaced_charge = no_replace ? 0 : ChargedIn(addr, end);
    if (CommitWouldExceed(charge, replaced_charge)) {
      ++metrics_.commit_limit_failures;
      return {0, FailErrno(la::kEnomem)};
    }
    if (!no_replace) Unmap(addr, end);
    region.end = end;
    region.allocation_base = addr;
    MapNew(addr, region);
    return {addr, 0};
  }

  metrics_.largest_requested_reservation = std::max(metrics_.largest_requested_reservation, len);
  if (CommitWouldExceed(charge, 0)) {
    ++metrics_.commit_limit_failures;
    return {0, FailErrno(la::kEnomem)};
  }
  std::optional<uint64_t> base =
      Place(len, /*coarse=*/false, config_.mmap_top_down, PageDown(addr), recorded_address);
  if (!base) {
    ++metrics_.failed_reservations;
    metrics_.largest_failed_reservation = std::max(metrics_.largest_failed_reservation, len);
    return {0, FailErrno(la::kEnomem)};
  }
  region.end = *base + len;
  region.allocation_base = *base;
  MapNew(*base, region);
  return {*base, 0};
}

int AddressSpace::Munmap(uint64_t addr, uint64_t length) {
  if (addr % config_.page_size != 0 || length == 0) return FailErrno(la::kEinval);
  std::optional<uint64_t> end = RangeEnd(addr, length);
  if (!end) return FailErrno(la::kEinval);
  Unmap(addr, *end);
  return 0;
}

int AddressSpace::Mprotect(uint64_t addr, uint64_t length, int prot) {
  if (addr % config_.page_size != 0) return FailErrno(la::kEinval);
  if ((prot & ~(kProtMask | la::kProtGrowsDown | la::kProtGrowsUp)) != 0) {
    return FailErrno(la::kEinval);
  }
  if (length == 0) return 0;
  std::optional<uint64_t> end = RangeEnd(addr, length);
  if (!end) return FailErrno(la::kEnomem);
  const bool accessible = (prot & kProtMask) != 0;
  const uint32_t state = accessible ? win32::kMemCommit : win32::kMemReserve;
  const uint32_t protect = accessible ? ProtectionFromPosix(prot) : 0;
  uint64_t add = 0;
  uint64_t sub = 0;
  bool changes = false;
  const bool mapped =
      Walk(addr, *end, /*one_allocation=*/false, [&](uint64_t s, uint64_t e, const Region& r) {
        if (r.state != state || r.protect != protect) changes = true;
        const bool will_charge = accessible && !r.uncharged && !r.foreign;
        if (r.Charged() && !will_charge) sub += e - s;
        if (!r.Charged() && will_charge) add += e - s;
      });
  if (!mapped) return FailErrno(la::kEnomem);
  if (CommitWouldExceed(add, sub)) {
    ++metrics_.commit_limit_failures;
    return FailErrno(la::kEnomem);
  }
  if (changes) SetState(addr, *end, state, protect);
  return 0;
}

int AddressSpace::Madvise(uint64_t addr, uint64_t length, int advice) {
  if (addr % config_.page_size != 0 || !IsKnownAdvice(advice)) return FailErrno(la::kEinval);
  if (length == 0) return 0;
  std::optional<uint64_t> end = RangeEnd(addr, length);
  if (!end) return FailErrno(la::kEnomem);
  const bool drops =
      advice == la::kMadvDontNeed || advice == la::kMadvFree || advice == la::kMadvRemove;
  // Find whether the range is fully mapped and whether anything would change.
  bool changes = false;
  bool fully_mapped = true;
  uint64_t cursor = addr;
  auto it = regions_.UpperBound(addr);
  if (it != regions_.begin() && std::prev(it)->second.end > addr) --it;
  for (; it != regions_.end() && it->first < *end; ++it) {
    if (it->first > cursor) fully_mapped = false;
    if (drops && it->second.Charged()) changes = true;
    cursor = it->second.end;
  }
  if (cursor < *end) fully_mapped = false;
  if (changes) SetState(addr, *end, win32::kMemReserve, 0, /*skip_uncharged=*/true);
  return fully_mapped ? 0 : FailErrno(la::kEnomem);
}

AddressSpace::MmapOutcome AddressSpace::Mremap(uint64_t old_addr, uint64_t old_size,
                                               uint64_t new_size, int flags, uint64_t new_addr,
                                               uint64_t recorded_address) {
  if ((flags & ~(la::kMremapMayMove | la::kMremapFixed | la::kMremapDontUnmap)) != 0 ||
      (flags & la::kMremapDontUnmap) != 0 || old_addr % config_.page_size != 0 || old_size == 0 ||
      new_size == 0) {
    return {0, FailErrno(la::kEinval)};
  }
  const bool may_move = (flags & la::kMremapMayMove) != 0;
  const bool fixed = (flags & la::kMremapFixed) != 0;
  if (fixed && !may_move) return {0, FailErrno(la::kEinval)};
  std::optional<uint64_t> old_end = RangeEnd(old_addr, old_size);
  if (!old_end) return {0, FailErrno(la::kEfault)};
  if (new_size > user_end()) return {0, FailErrno(la::kEnomem)};
  const uint64_t old_len = *old_end - old_addr;
  const uint64_t new_len = (new_size + config_.page_size - 1) & ~(config_.page_size - 1);

  // The old range must be one mapping.
  Region last{};
  if (!Walk(old_addr, *old_end, /*one_allocation=*/true,
            [&](uint64_t, uint64_t, const Region& r) { last = r; })) {
    return {0, FailErrno(la::kEfault)};
  }
  const uint64_t growth = new_len > old_len ? new_len - old_len : 0;
  // The growth is the trace's own even where the mapping is foreign (see below).
  const uint64_t growth_charge = last.state == win32::kMemCommit && !last.uncharged ? growth : 0;

  uint64_t target = old_addr;
  if (fixed) {
    if (new_addr % config_.page_size != 0) return {0, FailErrno(la::kEinval)};
    if (new_addr < config_.min_address || new_addr > user_end() ||
        new_len > user_end() - new_addr) {
      return {0, FailErrno(la::kEinval)};
    }
    if (new_addr < *old_end && old_addr < new_addr + new_len) return {0, FailErrno(la::kEinval)};
    if (CommitWouldExceed(growth_charge, ChargedIn(new_addr, new_addr + new_len))) {
      ++metrics_.commit_limit_failures;
      return {0, FailErrno(la::kEnomem)};
    }
    Unmap(new_addr, new_addr + new_len);
    target = new_addr;
  } else if (new_len <= old_len) {
    if (new_len < old_len) Unmap(old_addr + new_len, *old_end);
    return {old_addr, 0};
  } else {
    if (CommitWouldExceed(growth_charge, 0)) {
      ++metrics_.commit_limit_failures;
      return {0, FailErrno(la::kEnomem)};
    }
    if (*old_end <= config_.max_address && growth <= user_end() - *old_end &&
        free_.Contains(*old_end, *old_end + growth)) {
      Region tail = last;
      tail.end = old_addr + new_len;
      tail.foreign = false;    // the growth is the trace's own
      MapNew(*old_end, tail);  // Coalesces with the last region of the mapping.
      return {old_addr, 0};
    }
    if (!may_move) return {0, FailErrno(la::kEnomem)};
    std::optional<uint64_t> placed =
        Place(new_len, /*coarse=*/false, config_.mmap_top_down, 0, recorded_address);
    if (!placed) {
      ++metrics_.failed_reservations;
      metrics_.largest_failed_reservation = std::max(metrics_.largest_failed_reservation, new_len);
      return {0, FailErrno(la::kEnomem)};
    }
    target = *placed;
  }

  // Move [old_addr, old_end) to target, keeping per-page state, then resize to new_len.
  std::vector<std::pair<uint64_t, Region>> pieces;
  Walk(old_addr, *old_end, true, [&](uint64_t s, uint64_t e, const Region& r) {
    Region moved = r;
    moved.end = target + (e - old_addr);
    moved.allocation_base = target;
    pieces.emplace_back(target + (s - old_addr), moved);
  });
  Unmap(old_addr, *old_end);
  free_.Allocate(target, target + new_len);
  uint64_t placed_end = target;
  for (auto& [start, r] : pieces) {
    if (start >= target + new_len) break;
    r.end = std::min(r.end, target + new_len);
    InsertAllocated(start, r);
    placed_end = r.end;
  }
  if (placed_end < target + new_len) {
    Region tail = pieces.back().second;
    tail.end = target + new_len;
    tail.foreign = false;
    InsertAllocated(placed_end, tail);
  }
  UpdateLayoutMetrics();
  return {target, 0};
}

}  // namespace vmreplay::sim
