#include "replayer/managers/large_pages_manager.h"

#include "simulator/win32_constants.h"

namespace vmreplay::replay {

LargePagesManager::LargePagesManager(const ManagerSpec& spec, const ManagerContext& context)
    : ViewManager(context, FollowingView(*context.platform)), large_(spec.Bytes("page")) {}

VmResult LargePagesManager::ReserveAligned(uint64_t length, uint64_t recorded) {
  // First where the recording had it (or wherever the platform likes): often already aligned.
  VmResult r = platform_->VirtualAlloc(0, length, win32::kMemReserve, win32::kPageNoAccess,
                                       LargeUp(recorded));
  if (r.error != 0 || r.address % large_ == 0) return r;
  // Else the classic Win32 way to an aligned reservation: reserve a page more, note the
  // boundary inside, give it back, reserve exactly there.
  platform_->VirtualFree(r.address, 0, win32::kMemRelease);
  ++realigned_;
  r = platform_->VirtualAlloc(0, length + large_, win32::kMemReserve, win32::kPageNoAccess, 0);
  if (r.error != 0) return r;
  const uint64_t aligned = LargeUp(r.address);
  platform_->VirtualFree(r.address, 0, win32::kMemRelease);
  return platform_->VirtualAlloc(aligned, length, win32::kMemReserve, win32::kPageNoAccess, 0);
}

std::pair<uint64_t, uint64_t> LargePagesManager::Widen(uint64_t start, uint64_t end) const {
  auto it = reservations_.upper_bound(start);
  if (it == reservations_.begin()) return {start, end};
  --it;
  const uint64_t lo = std::max(LargeDown(start), it->first);
  const uint64_t hi = std::min(LargeUp(end), it->first + it->second);
  return {lo, hi};
}

void LargePagesManager::DecommitUnused(uint64_t start, uint64_t end) {
  const auto [lo, hi] = Widen(start, end);
  uint64_t run = 0;  // start of a run of unused pages, 0 = none
  for (uint64_t page = lo; page < hi; page += large_) {
    const bool unused = view_.ChargedIn(page, page + large_) == 0;
    if (unused && run == 0) run = page;
    if (!unused && run != 0) {
      platform_->VirtualFree(run, page - run, win32::kMemDecommit);
      run = 0;
    }
  }
  if (run != 0) platform_->VirtualFree(run, hi - run, win32::kMemDecommit);
}

VmResult LargePagesManager::VirtualAlloc(uint64_t address, uint64_t size, uint32_t type,
                                         uint32_t protect, uint32_t, uint64_t recorded) {
  const bool commit = (type & win32::kMemCommit) != 0;
  const bool reserve = (type & win32::kMemReserve) != 0 || (address == 0 && commit);
  uint64_t result = 0;
  uint64_t base = 0;  // the platform reservation made by this call, if any
  if (reserve) {
    const uint64_t length = LargeUp(PageUp(size));
    if (length == 0 || length < size) {  // The view gives Windows' answer.
      return VmResult{0, view_.VirtualAlloc(address, size, type, protect, 0).error};
    }
    if (commit && OverCommitLimit(length)) return VmResult{0, win32::kErrorCommitmentLimit};
    // At an address, the platform reservation starts on the large page below it.
    const uint64_t start = LargeDown(address);
    const uint64_t platform_length =
        address == 0 ? length : LargeUp(PageRange(address, size).second) - start;
    const VmResult r = address == 0
                           ? ReserveAligned(length, recorded)
                           : platform_->VirtualAlloc(start, platform_length, win32::kMemReserve,
                                                     win32::kPageNoAccess, 0);
    if (r.error != 0) return r;
    base = r.address;
    const sim::AllocOutcome o = view_.VirtualAlloc(address, size, type, protect, base);
    if (o.error != 0 || (address == 0 && o.address != base)) {
      if (o.error == 0) view_.VirtualFree(o.address, 0, win32::kMemRelease);
      platform_->VirtualFree(base, 0, win32::kMemRelease);
      return VmResult{0, o.error != 0 ? o.error : win32::kErrorNotEnoughMemory};
    }
    reservations_[base] = platform_length;
    platform_->AdviseHugePages(base, platform_length);
    result = o.address;
    if (address == 0) address = o.address;
  } else {
    if (commit && view_.AllocationContaining(address)) {  // Refused before the view changes.
      const auto [start, end] = PageRange(address, size);
      const auto [lo, hi] = Widen(start, end);
      if (OverCommitLimit((hi - lo) - platform_->CommittedIn(lo, hi))) {
        return VmResult{0, win32::kErrorCommitmentLimit};
      }
    }
    const sim::AllocOutcome o = view_.VirtualAlloc(address, size, type, protect, 0);
    if (o.error != 0) return VmResult{0, o.error};
    result = o.address;
    if ((type & win32::kMemReset) != 0) {
      const auto [start, end] = PageRange(address, size);
      platform_->VirtualAlloc(start, end - start, win32::kMemReset, protect, 0);
    }
  }
  if (!commit) return VmResult{result, 0};
  const auto [start, end] = PageRange(address, size);
  const auto [lo, hi] = Widen(start, end);
  const uint64_t have = platform_->CommittedIn(lo, hi);
  if (have == hi - lo) return VmResult{result, 0};  // Those large pages are backed already.
  VmResult r{0, win32::kErrorCommitmentLimit};
  if (!OverCommitLimit((hi - lo) - have)) {
    r = platform_->VirtualAlloc(lo, hi - lo, win32::kMemCommit, protect, 0);
  }
  if (r.error != 0) {  // Undo in the view, so the CLR and the platform agree (out of mappings).
    if (base != 0) {
      view_.VirtualFree(result, 0, win32::kMemRelease);
      platform_->VirtualFree(base, 0, win32::kMemRelease);
      reservations_.erase(base);
    } else {
      view_.VirtualFree(start, end - start, win32::kMemDecommit);
    }
    return VmResult{0, r.error};
  }
  return VmResult{result, 0};
}

uint32_t LargePagesManager::VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) {
  const auto extent = view_.AllocationContaining(address);
  const uint32_t error = view_.VirtualFree(address, size, free_type);
  if (error != 0 || !extent) return error;
  if (free_type == win32::kMemRelease) {
    auto it = reservations_.upper_bound(extent->first);
    if (it != reservations_.begin()) {
      --it;
      platform_->VirtualFree(it->first, 0, win32::kMemRelease);
      reservations_.erase(it);
    }
    return 0;
  }
  const uint64_t end = size == 0 ? extent->second : PageRange(address, size).second;
  DecommitUnused(PageDown(address), end);
  return 0;
}

ManagerStats LargePagesManager::stats() const {
  using Unit = ManagerFigure::Unit;
  ManagerStats s;
  s.figures = {
      {"large page", static_cast<double>(large_), Unit::kBytes},
      {"realigned reservations", static_cast<double>(realigned_), Unit::kCount},
  };
  AddPassThroughNote(&s);
  return s;
}

}  // namespace vmreplay::replay
