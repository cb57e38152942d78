// `decommit-cache`: what the CLR decommits or releases stays committed at the platform, up to
// `size` bytes (the oldest leaves first), and serves later requests without a platform call:
//   - a commit of pages still cached (the same pages: the GC decommits and recommits the ends of
//     its regions and segments) costs nothing when their protection matches;
//   - a released reservation stays reserved, with its cached pages, and a later NULL-address
//     reservation of the same size class (the next power of two) and at most its size gets it
//     back, so neither the reservation nor the commit of its cached pages reaches the platform.
// An evicted range is decommitted; an evicted reservation released. NeedsVirtualAddressSpace
// releases every cached reservation (the CLR then retries its mapping).
//
// Invariant (tested): the platform's committed bytes = the CLR's committed bytes (the view) +
// cached_bytes(); cached pages are never committed in the view.
//
// The policy applies to the VirtualAlloc family; mmap-family calls pass through (a note says so).
#pragma once

#include <map>
#include <set>
#include <tuple>

#include "replayer/managers/view_manager.h"

namespace vmreplay::replay {

class DecommitCacheManager final : public ViewManager {
 public:
  DecommitCacheManager(const ManagerSpec& spec, const ManagerContext& context);
  std::string_view name() const override { return "decommit-cache"; }

  VmResult VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                        uint32_t level, uint64_t recorded_address) override;
  uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t free_type) override;
  bool NeedsVirtualAddressSpace(uint64_t start, uint64_t size) override;
  ManagerStats stats() const override;

  uint64_t cached_bytes() const { return cached_bytes_; }

 private:
  struct Cached {
    uint64_t end = 0;
    uint32_t protect = 0;
    uint64_t stamp = 0;  // age: smaller leaves first
  };
  struct FreeReservation {
    uint64_t size = 0;  // bytes reserved at the platform
  };

  static uint32_t SizeClass(uint64_t bytes);
  bool OverCommitLimit(uint64_t need) const {
    return platform_->committed_bytes() + need > platform_->commit_limit() ||
           platform_->committed_bytes() + need < need;
  }
  // Adds committed pieces the CLR gave up.
  void AddCached(const std::vector<CommittedPiece>& pieces);
  // True when every page of [start, end) is cached with `protect`.
  bool AllCachedAs(uint64_t start, uint64_t end, uint32_t protect) const;
  // Takes [start, end) out of the cache (the CLR commits it).
  void TakeCached(uint64_t start, uint64_t end);
  // Commits [start, end) for the CLR: from the cache when it holds all of it, else at the
  // platform. False when the platform refused (the cache is then unchanged).
  bool CommitServed(uint64_t start, uint64_t end, uint32_t protect);
  uint64_t CachedIn(uint64_t start, uint64_t end) const;
  void EraseEntry(std::map<uint64_t, Cached>::iterator it);
  // Evicts the oldest entries until the cache fits its size.
  void Evict();
  // Releases a kept reservation at the platform with every cached page inside it.
  void ReleaseKept(std::map<uint64_t, FreeReservation>::iterator it);
  // Releases kept reservations overlapping [start, end) (the CLR wants that address).
  void ReleaseKeptIn(uint64_t start, uint64_t end);
  // A kept reservation of `bytes`' size class holding at least `bytes`, if any (removed).
  std::optional<std::pair<uint64_t, uint64_t>> TakeKept(uint64_t bytes);

  uint64_t capacity_;
  uint64_t stamp_ = 0;
  std::map<uint64_t, Cached> cached_;            // start -> cached run
  std::set<std::pair<uint64_t, uint64_t>> lru_;  // (stamp, start)
  uint64_t cached_bytes_ = 0;
  uint64_t peak_cached_bytes_ = 0;
  std::map<uint64_t, FreeReservation> kept_;  // released by the CLR, kept at the platform
  std::set<std::tuple<uint32_t, uint64_t, uint64_t>> kept_by_class_;  // (class, size, base)
  std::map<uint64_t, uint64_t> platform_size_;  // live reservation base -> bytes at the platform

  uint64_t hits_ = 0;  // commits served without a platform call
  uint64_t bytes_reused_ = 0;
  uint64_t reservations_reused_ = 0;
  uint64_t evictions_ = 0;
};

}  // namespace vmreplay::replay
