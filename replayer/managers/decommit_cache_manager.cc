#include "replayer/managers/decommit_cache_manager.h"

#include <bit>

#include "replayer/metrics/format_bytes.h"
#include "simulator/win32_constants.h"

namespace vmreplay::replay {

DecommitCacheManager::DecommitCacheManager(const ManagerSpec& spec, const ManagerContext& context)
    : ViewManager(context, FollowingView(*context.platform)), capacity_(spec.Bytes("size")) {}

uint32_t DecommitCacheManager::SizeClass(uint64_t bytes) {
  return bytes <= 1 ? 0 : static_cast<uint32_t>(std::bit_width(bytes - 1));
}

// ------------------------------------------------------------------------------------ Cache

void DecommitCacheManager::AddCached(const std::vector<CommittedPiece>& pieces) {
  for (const CommittedPiece& p : pieces) {
    const uint64_t stamp = stamp_++;
    cached_[p.start] = Cached{p.end, p.protect, stamp};
    lru_.insert({stamp, p.start});
    cached_bytes_ += p.end - p.start;
  }
  if (cached_bytes_ > peak_cached_bytes_) peak_cached_bytes_ = cached_bytes_;
}

void DecommitCacheManager::EraseEntry(std::map<uint64_t, Cached>::iterator it) {
  lru_.erase({it->second.stamp, it->first});
  cached_bytes_ -= it->second.end - it->first;
  cached_.erase(it);
}

uint64_t DecommitCacheManager::CachedIn(uint64_t start, uint64_t end) const {
  uint64_t bytes = 0;
  auto it = cached_.upper_bound(start);
  if (it != cached_.begin() && std::prev(it)->second.end > start) --it;
  for (; it != cached_.end() && it->first < end; ++it) {
    bytes += std::min(it->second.end, end) - std::max(it->first, start);
  }
  return bytes;
}

bool DecommitCacheManager::AllCachedAs(uint64_t start, uint64_t end, uint32_t protect) const {
  uint64_t matched = 0;
  auto it = cached_.upper_bound(start);
  if (it != cached_.begin() && std::prev(it)->second.end > start) --it;
  for (; it != cached_.end() && it->first < end; ++it) {
    if (it->second.protect == protect) {
      matched += std::min(it->second.end, end) - std::max(it->first, start);
    }
  }
  return matched == end - start;
}

void DecommitCacheManager::TakeCached(uint64_t start, uint64_t end) {
  auto it = cached_.upper_bound(start);
  if (it != cached_.begin() && std::prev(it)->second.end > start) --it;
  while (it != cached_.end() && it->first < end) {
    const uint64_t s = it->first;
    const Cached c = it->second;
    EraseEntry(it++);
    const uint64_t lo = std::max(s, start);
    const uint64_t hi = std::min(c.end, end);
    // What lies outside the range stays cached, with its age.
    for (const auto& [a, b] : {std::pair{s, lo}, std::pair{hi, c.end}}) {
      if (a >= b) continue;
      cached_[a] = Cached{b, c.protect, c.stamp};
      lru_.insert({c.stamp, a});
      cached_bytes_ += b - a;
    }
    it = cached_.lower_bound(hi);
  }
}

void DecommitCacheManager::ReleaseKept(std::map<uint64_t, FreeReservation>::iterator it) {
  const uint64_t base = it->first;
  const uint64_t end = base + it->second.size;
  kept_by_class_.erase({SizeClass(it->second.size), it->second.size, base});
  kept_.erase(it);
  for (auto c = cached_.lower_bound(base); c != cached_.end() && c->first < end;) EraseEntry(c++);
  platform_->VirtualFree(base, 0, win32::kMemRelease);
  ++evictions_;
}

void DecommitCacheManager::ReleaseKeptIn(uint64_t start, uint64_t end) {
  auto it = kept_.upper_bound(start);
  if (it != kept_.begin() && std::prev(it)->first + std::prev(it)->second.size > start) --it;
  while (it != kept_.end() && it->first < end) ReleaseKept(it++);
}

void DecommitCacheManager::Evict() {
  while (cached_bytes_ > capacity_ && !lru_.empty()) {
    const uint64_t start = lru_.begin()->second;
    auto kept = kept_.upper_bound(start);
    if (kept != kept_.begin() && std::prev(kept)->first + std::prev(kept)->second.size > start) {
      ReleaseKept(std::prev(kept));  // One release gives back the whole kept reservation.
      continue;
    }
    auto it = cached_.find(start);
    const uint64_t end = it->second.end;
    EraseEntry(it);
    platform_->VirtualFree(start, end - start, win32::kMemDecommit);
    ++evictions_;
  }
}

std::optional<std::pair<uint64_t, uint64_t>> DecommitCacheManager::TakeKept(uint64_t bytes) {
  const uint32_t cls = SizeClass(bytes);
  auto it = kept_by_class_.lower_bound({cls, bytes, 0});
  if (it == kept_by_class_.end() || std::get<0>(*it) != cls) return std::nullopt;
  const auto [c, size, base] = *it;
  kept_by_class_.erase(it);
  kept_.erase(base);
  return std::make_pair(base, size);
}

bool DecommitCacheManager::CommitServed(uint64_t start, uint64_t end, uint32_t protect) {
  if (AllCachedAs(start, end, protect)) {
    ++hits_;
    bytes_reused_ += end - start;
    TakeCached(start, end);
    return true;
  }
  const uint64_t cached = CachedIn(start, end);
  if (platform_->VirtualAlloc(start, end - start, win32::kMemCommit, protect, 0).error != 0) {
    return false;
  }
  bytes_reused_ += cached;
  TakeCached(start, end);
  return true;
}

// ------------------------------------------------------------------------------------ Win32

VmResult DecommitCacheManager::VirtualAlloc(uint64_t address, uint64_t size, uint32_t type,
                                            uint32_t protect, uint32_t, uint64_t recorded) {
  const bool commit = (type & win32::kMemCommit) != 0;
  const bool reserve = (type & win32::kMemReserve) != 0 || (address == 0 && commit);
  if (reserve && address == 0) {
    const uint64_t length = PageUp(size);
    if (length == 0) {  // The view gives Windows' answer to a zero-size reservation.
      return VmResult{0, view_.VirtualAlloc(0, size, type, protect, 0).error};
    }
    uint64_t base = 0;
    uint64_t platform_size = length;
    const auto kept = TakeKept(length);
    if (kept) {
      std::tie(base, platform_size) = *kept;
      if (commit && OverCommitLimit(length - platform_->CommittedIn(base, base + length))) {
        kept_[base] = FreeReservation{platform_size};  // Stays kept.
        kept_by_class_.insert({SizeClass(platform_size), platform_size, base});
        return VmResult{0, win32::kErrorCommitmentLimit};
      }
      ++reservations_reused_;
    } else {
      const VmResult r = platform_->VirtualAlloc(0, size, type, protect, recorded);
      if (r.error != 0) return r;
      base = r.address;
    }
    const sim::AllocOutcome o = view_.VirtualAlloc(0, size, type, protect, base);
    if (o.error != 0 || o.address != base) {  // Cannot happen: the view is free where the
      if (o.error == 0) view_.VirtualFree(o.address, 0, win32::kMemRelease);  // platform was.
      platform_->VirtualFree(base, 0, win32::kMemRelease);
      return VmResult{0, o.error != 0 ? o.error : win32::kErrorNotEnoughMemory};
    }
    platform_size_[base] = platform_size;
    if (kept && commit && !CommitServed(base, base + length, protect)) {
      // Not the commit limit (checked): the platform is out of mappings. Kept again.
      view_.VirtualFree(base, 0, win32::kMemRelease);
      platform_size_.erase(base);
      kept_[base] = FreeReservation{platform_size};
      kept_by_class_.insert({SizeClass(platform_size), platform_size, base});
      return VmResult{0, win32::kErrorNotEnoughMemory};
    }
    return VmResult{base, 0};
  }
  if (reserve) {
    // At an address: whatever the cache keeps there goes first, so the platform sees what the
    // CLR sees.
    ReleaseKeptIn(address & ~(platform_->allocation_granularity() - 1),
                  PageRange(address, size).second);
    const VmResult r = platform_->VirtualAlloc(address, size, type, protect, 0);
    if (r.error != 0) return r;
    const sim::AllocOutcome o = view_.VirtualAlloc(address, size, type, protect, 0);
    if (o.error != 0) {
      platform_->VirtualFree(r.address, 0, win32::kMemRelease);
      return VmResult{0, o.error};
    }
    platform_size_[o.address] = PageRange(address, size).second - o.address;
    return VmResult{o.address, 0};
  }
  const auto [start, end] = PageRange(address, size);
  if (commit && view_.AllocationContaining(address) &&
      OverCommitLimit((end - start) - platform_->CommittedIn(start, end))) {
    return VmResult{0, win32::kErrorCommitmentLimit};
  }
  const sim::AllocOutcome o = view_.VirtualAlloc(address, size, type, protect, 0);
  if (o.error != 0) return VmResult{0, o.error};
  if (commit && !CommitServed(start, end, protect)) {
    view_.VirtualFree(start, end - start, win32::kMemDecommit);  // The platform is out of mappings.
    return VmResult{0, win32::kErrorNotEnoughMemory};
  } else if ((type & win32::kMemReset) != 0) {
    platform_->VirtualAlloc(start, end - start, win32::kMemReset, protect, 0);
  }
  return VmResult{o.address, 0};
}

uint32_t DecommitCacheManager::VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) {
  const auto extent = view_.AllocationContaining(address);
  if (!extent) return view_.VirtualFree(address, size, free_type);  // Windows' error.
  if (free_type == win32::kMemRelease) {
    const auto [base, end] = *extent;
    const std::vector<CommittedPiece> pieces = CommittedPieces(view_, base, end);
    const uint32_t error = view_.VirtualFree(address, size, free_type);
    if (error != 0) return error;
    auto it = platform_size_.find(base);
    const uint64_t platform_size = it != platform_size_.end() ? it->second : end - base;
    if (it != platform_size_.end()) platform_size_.erase(it);
    AddCached(pieces);
    if (CachedIn(base, base + platform_size) == 0) {
      platform_->VirtualFree(base, 0, win32::kMemRelease);  // Nothing worth keeping.
    } else {
      kept_[base] = FreeReservation{platform_size};
      kept_by_class_.insert({SizeClass(platform_size), platform_size, base});
    }
    Evict();
    return 0;
  }
  const uint64_t start = PageDown(address);
  const uint64_t end = size == 0 ? extent->second : PageRange(address, size).second;
  const std::vector<CommittedPiece> pieces = CommittedPieces(view_, start, end);
  const uint32_t error = view_.VirtualFree(address, size, free_type);
  if (error != 0) return error;
  AddCached(pieces);
  Evict();
  return 0;
}

bool DecommitCacheManager::NeedsVirtualAddressSpace(uint64_t, uint64_t) {
  if (kept_.empty()) return false;
  while (!kept_.empty()) ReleaseKept(kept_.begin());
  return true;
}

ManagerStats DecommitCacheManager::stats() const {
  using Unit = ManagerFigure::Unit;
  ManagerStats s;
  s.figures = {
      {"cache size", static_cast<double>(capacity_), Unit::kBytes},
      {"cache peak", static_cast<double>(peak_cached_bytes_), Unit::kBytes},
      {"cache at end", static_cast<double>(cached_bytes_), Unit::kBytes},
      {"cache hits (commits)", static_cast<double>(hits_), Unit::kCount},
      {"cache bytes reused", static_cast<double>(bytes_reused_), Unit::kBytes},
      {"reservations reused", static_cast<double>(reservations_reused_), Unit::kCount},
      {"cache evictions", static_cast<double>(evictions_), Unit::kCount},
  };
  AddPassThroughNote(&s);
  return s;
}

}  // namespace vmreplay::replay
