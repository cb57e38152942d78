// Seeded random operation sequences applied both to AddressSpace and to a naive reference model
// that keeps one record per page and implements each rule by brute force. Every result (address,
// error, old protection, VirtualQuery answer) and every metric must agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "simulator/address_space.h"
#include "simulator/posix_constants.h"
#include "simulator/protection.h"
#include "simulator/win32_constants.h"

namespace vmreplay::sim {
namespace {

using namespace vmreplay::win32;  // NOLINT: constants only.
namespace la = vmreplay::linux_abi;

constexpr uint64_t kPage = 0x1000;
constexpr uint64_t kGranule = 0x10000;
constexpr uint64_t kMin = 0x10000;
constexpr uint64_t kEnd = 0x410000;  // 4 MiB user space: 1024 pages.

AddressSpaceConfig Config(Placement placement, uint64_t commit_limit) {
  AddressSpaceConfig config;
  config.min_address = kMin;
  config.max_address = kEnd - 1;
  config.commit_limit = commit_limit;
  config.placement = placement;
  config.mmap_top_down = false;
  return config;
}

struct Page {
  uint32_t state = kMemFree;
  uint64_t allocation_base = 0;
  uint32_t allocation_protect = 0;
  uint32_t protect = 0;
  uint32_t type = 0;
  bool operator==(const Page&) const = default;
};

// The reference: a flat page array, linear scans everywhere.
class ReferenceSpace {
 public:
  explicit ReferenceSpace(uint64_t commit_limit) : limit_(commit_limit), pages_(Index(kEnd)) {}

  AllocOutcome VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect,
                            uint64_t recorded, bool faithful) {
    if (size == 0) return {0, 87};
    const uint32_t known = kMemCommit | kMemReserve | kMemReset | kMemResetUndo | kMemTopDown;
    if (type & ~known) return {0, 87};
    const bool reset = type & (kMemReset | kMemResetUndo);
    if (reset && type != kMemReset && type != kMemResetUndo) return {0, 87};
    if (!reset && !(type & (kMemCommit | kMemReserve))) return {0, 87};
    if (!reset && !IsValidPrivateProtection(protect)) return {0, 87};
    const bool commit = type & kMemCommit;
    const uint32_t state = commit ? kMemCommit : kMemReserve;
    if (address == 0) {
      if (reset) return {0, 87};
      const uint64_t bytes = RoundUp(size);
      if (size > kEnd) return {0, 8};
      if (commit && Committed() + bytes > limit_) return {0, 1455};
      std::optional<uint64_t> base;
      if (faithful && recorded != 0 && recorded % kGranule == 0 && recorded >= kMin &&
          recorded + bytes <= kEnd && AllFree(recorded, recorded + bytes)) {
        base = recorded;
      }
      for (uint64_t b = kMin; !base.has_value() && b + bytes <= kEnd; b += kGranule) {
        if (!(type & kMemTopDown) && AllFree(b, b + bytes)) base = b;
      }
      if (!base && (type & kMemTopDown)) {
        for (uint64_t b = (kEnd - bytes) & ~(kGranule - 1); b >= kMin; b -= kGranule) {
          if (AllFree(b, b + bytes)) {
            base = b;
            break;
          }
        }
      }
      if (!base) return {0, 8};
      Set(*base, *base + bytes, Page{state, *base, protect, commit ? protect : 0, kMemPrivate});
      return {*base, 0};
    }
    const bool reserve = type & kMemReserve;
    const uint64_t start = reserve ? address & ~(kGranule - 1) : address & ~(kPage - 1);
    if (address + size > kEnd || address + size < address || start < kMin) return {0, 87};
    const uint64_t end = RoundUp(address + size);
    if (reserve) {
      if (!AllFree(start, end)) return {0, 487};
      if (commit && Committed() + (end - start) > limit_) return {0, 1455};
      Set(start, end, Page{state, start, protect, commit ? protect : 0, kMemPrivate});
      return {start, 0};
    }
    if (!OneAllocation(start, end)) return {0, 487};
    if (reset) return {start, 0};
    uint64_t add = 0;
    for (uint64_t a = start; a < end; a += kPage) add += At(a).state == kMemReserve ? kPage : 0;
    if (Committed() + add > limit_) return {0, 1455};
    for (uint64_t a = start; a < end; a += kPage) {
      At(a).state = kMemCommit;
      At(a).protect = protect;
    }
    return {start, 0};
  }

  uint32_t VirtualFree(uint64_t address, uint64_t size, uint32_t type) {
    if (type != kMemDecommit && type != kMemRelease) return 87;
    if (type == kMemRelease && size != 0) return 87;
    if (address == 0 || address >= kEnd) return 87;
    const uint64_t start = address & ~(kPage - 1);
    if (start < kMin || At(start).state == kMemFree) return 487;
    const uint64_t base = At(start).allocation_base;
    uint64_t end = start;
    if (size == 0) {
      if (start != base) return 487;
      while (end < kEnd && At(end).state != kMemFree && At(end).allocation_base == base) {
        end += kPage;
      }
    } else {
      if (address + size > kEnd || address + size < address) return 87;
      end = RoundUp(address + size);
      if (!OneAllocation(start, end)) return 87;
    }
    for (uint64_t a = start; a < end; a += kPage) {
      if (type == kMemRelease) {
        At(a) = Page{};
      } else {
        At(a).state = kMemReserve;
        At(a).protect = 0;
      }
    }
    return 0;
  }

  uint32_t VirtualProtect(uint64_t address, uint64_t size, uint32_t protect, uint32_t* old) {
    if (!IsValidPrivateProtection(protect)) return 87;
    if (address >= kEnd) return 487;
    const uint64_t start = address & ~(kPage - 1);
    if (address + size > kEnd || address + size < address) return 487;
    const uint64_t end = RoundUp(address + size);
    if (start < kMin || At(start).state == kMemFree) return 487;
    if (At(start).state != kMemCommit) return 487;
    if (end > start && !OneAllocation(start, end)) return 487;
    for (uint64_t a = start; a < end; a += kPage) {
      if (At(a).state != kMemCommit) return 487;
    }
    *old = At(start).protect;
    for (uint64_t a = start; a < end; a += kPage) At(a).protect = protect;
    return 0;
  }

  MemoryBasicInformation Query(uint64_t address) const {
    const uint64_t page = address & ~(kPage - 1);
    if (page < kMin) {
      uint64_t end = kMin;
      while (end < kEnd && At(end).state == kMemFree) end += kPage;
      return {page, 0, 0, end - page, kMemFree, kPageNoAccess, 0};
    }
    const Page& p = At(page);
    uint64_t end = page;
    while (end < kEnd && At(end) == p) end += kPage;
    if (p.state == kMemFree) return {page, 0, 0, end - page, kMemFree, kPageNoAccess, 0};
    return {page, p.allocation_base, p.allocation_protect, end - page, p.state, p.protect, p.type};
  }

  // POSIX subset: MAP_FIXED anonymous mmap, munmap, mprotect, madvise(DONTNEED).
  int MmapFixed(uint64_t addr, uint64_t len, int prot) {
    len = RoundUp(len);
    uint64_t charge_old = 0;
    for (uint64_t a = addr; a < addr + len; a += kPage) {
      charge_old += At(a).state == kMemCommit ? kPage : 0;
    }
    const bool accessible = prot != 0;
    if (accessible && Committed() - charge_old + len > limit_) return la::kEnomem;
    const uint32_t protect = ProtectionFromPosix(prot);
    Set(addr, addr + len,
        Page{accessible ? kMemCommit : kMemReserve, addr, protect, accessible ? protect : 0,
             kMemPrivate});
    return 0;
  }
  int Munmap(uint64_t addr, uint64_t len) {
    for (uint64_t a = addr; a < RoundUp(addr + len) && a < kEnd; a += kPage) {
      if (a >= kMin) At(a) = Page{};
    }
    return 0;
  }
  int Mprotect(uint64_t addr, uint64_t len, int prot) {
    const uint64_t end = RoundUp(addr + len);
    uint64_t add = 0;
    uint64_t sub = 0;
    for (uint64_t a = addr; a < end; a += kPage) {
      if (a < kMin || At(a).state == kMemFree) return la::kEnomem;
      if (At(a).state == kMemCommit && prot == 0) sub += kPage;
      if (At(a).state == kMemReserve && prot != 0) add += kPage;
    }
    if (Committed() - sub + add > limit_) return la::kEnomem;
    for (uint64_t a = addr; a < end; a += kPage) {
      At(a).state = prot ? kMemCommit : kMemReserve;
      At(a).protect = prot ? ProtectionFromPosix(prot) : 0;
    }
    return 0;
  }
  int MadviseDontNeed(uint64_t addr, uint64_t len) {
    int result = 0;
    for (uint64_t a = addr; a < RoundUp(addr + len); a += kPage) {
      if (a < kMin || a >= kEnd || At(a).state == kMemFree) {
        result = la::kEnomem;
        continue;
      }
      if (At(a).state == kMemCommit) {
        At(a).state = kMemReserve;
        At(a).protect = 0;
      }
    }
    return result;
  }

  uint64_t Committed() const { return Count(kMemCommit); }
  uint64_t Reserved() const { return Count(kMemCommit) + Count(kMemReserve); }
  uint64_t TotalFree() const { return Count(kMemFree); }
  uint64_t LargestFree() const {
    uint64_t best = 0;
    uint64_t run = 0;
    for (uint64_t a = kMin; a < kEnd; a += kPage) {
      run = At(a).state == kMemFree ? run + kPage : 0;
      best = std::max(best, run);
    }
    return best;
  }

 private:
  static size_t Index(uint64_t a) { return (a - kMin) / kPage; }
  static uint64_t RoundUp(uint64_t a) { return (a + kPage - 1) & ~(kPage - 1); }
  Page& At(uint64_t a) { return pages_[Index(a)]; }
  const Page& At(uint64_t a) const { return pages_[Index(a)]; }
  bool AllFree(uint64_t start, uint64_t end) const {
    for (uint64_t a = start; a < end; a += kPage) {
      if (At(a).state != kMemFree) return false;
    }
    return true;
  }
  bool OneAllocation(uint64_t start, uint64_t end) const {
    if (start >= kEnd || At(start).state == kMemFree) return false;
    for (uint64_t a = start; a < end; a += kPage) {
      if (At(a).state == kMemFree || At(a).allocation_base != At(start).allocation_base) {
        return false;
      }
    }
    return true;
  }
  void Set(uint64_t start, uint64_t end, const Page& p) {
    for (uint64_t a = start; a < end; a += kPage) At(a) = p;
  }
  uint64_t Count(uint32_t state) const {
    uint64_t n = 0;
    for (const Page& p : pages_) n += p.state == state ? kPage : 0;
    return n;
  }

  uint64_t limit_;
  std::vector<Page> pages_;
};

void CompareAll(AddressSpace& space, const ReferenceSpace& ref, int step) {
  ASSERT_EQ(space.CheckInvariants(), "") << "step " << step;
  // Walk the whole space region by region.
  uint64_t addr = 0;
  while (addr < kEnd) {
    MemoryBasicInformation got;
    uint32_t error = 0;
    ASSERT_NE(space.VirtualQuery(addr, &got, &error), 0u);
    ASSERT_EQ(got, ref.Query(addr)) << "step " << step << " addr " << std::hex << addr;
    addr = got.base_address + got.region_size;
  }
  const Metrics& m = space.metrics();
  ASSERT_EQ(m.committed_bytes, ref.Committed()) << "step " << step;
  ASSERT_EQ(m.reserved_bytes, ref.Reserved()) << "step " << step;
  ASSERT_EQ(m.total_free, ref.TotalFree()) << "step " << step;
  ASSERT_EQ(m.largest_free_block, ref.LargestFree()) << "step " << step;
}

const uint32_t kProtects[] = {
    kPageNoAccess, kPageReadOnly, kPageReadWrite, kPageExecuteRead, kPageReadWrite | kPageGuard, 0,
    kPageWriteCopy};

class RandomizedConsistencyTest : public ::testing::TestWithParam<int> {};

TEST_P(RandomizedConsistencyTest, Win32OperationsMatchReference) {
  const int seed = GetParam();
  std::mt19937_64 rng(seed);
  const bool faithful = seed % 2 == 1;
  const uint64_t limit = seed % 3 == 0 ? UINT64_MAX : 0x180000;
  AddressSpace space(Config(faithful ? Placement::kLayoutFaithful : Placement::kBottomUp, limit));
  ReferenceSpace ref(limit);
  std::vector<uint64_t> bases;
  int ok = 0;
  int failed = 0;
  auto count = [&](uint32_t error) { (error == 0 ? ok : failed)++; };
  auto pick_addr = [&]() -> uint64_t {
    if (!bases.empty() && rng() % 4 != 0) {
      return bases[rng() % bases.size()] + (rng() % 3 == 0 ? 0 : rng() % 0x30000);
    }
    return kMin - 0x2000 + rng() % (kEnd - kMin + 0x4000);
  };
  auto pick_size = [&]() -> uint64_t {
    switch (rng() % 4) {
      case 0:
        return rng() % 0x3000;
      case 1:
        return (1 + rng() % 8) * kPage;
      case 2:
        return (1 + rng() % 4) * kGranule;
      default:
        return rng() % 0x80000;
    }
  };
  for (int step = 0; step < 4000; ++step) {
    space.set_event_index(step);
    const uint32_t protect = kProtects[rng() % std::size(kProtects)];
    switch (rng() % 8) {
      case 0:
      case 1: {  // NULL-address reservation.
        uint32_t type = rng() % 2 ? kMemReserve : kMemReserve | kMemCommit;
        if (rng() % 4 == 0) type |= kMemTopDown;
        if (rng() % 8 == 0) type = kMemCommit;
        const uint64_t size = pick_size();
        const uint64_t recorded = rng() % 2 ? (kMin + (rng() % 64) * kGranule) : 0;
        AllocOutcome got = space.VirtualAlloc(0, size, type, protect, recorded);
        AllocOutcome want = ref.VirtualAlloc(0, size, type, protect, recorded, faithful);
        ASSERT_EQ(got.error, want.error) << "step " << step;
        ASSERT_EQ(got.address, want.address) << "step " << step;
        if (got.error == 0) bases.push_back(got.address);
        count(got.error);
        break;
      }
      case 2: {  // Reservation or commit at an address.
        const uint32_t types[] = {kMemReserve, kMemCommit, kMemCommit, kMemReserve | kMemCommit,
                                  kMemReset};
        const uint32_t type = types[rng() % std::size(types)];
        const uint64_t addr = pick_addr();
        const uint64_t size = pick_size();
        AllocOutcome got = space.VirtualAlloc(addr, size, type, protect);
        AllocOutcome want = ref.VirtualAlloc(addr, size, type, protect, 0, faithful);
        ASSERT_EQ(got.error, want.error) << "step " << step;
        ASSERT_EQ(got.address, want.address) << "step " << step;
        count(got.error);
        break;
      }
      case 3:
      case 4: {  // Decommit / release.
        const uint32_t type = rng() % 2 ? kMemDecommit : kMemRelease;
        const uint64_t addr = pick_addr();
        const uint64_t size = rng() % 2 ? 0 : pick_size();
        const uint32_t error = space.VirtualFree(addr, size, type);
        ASSERT_EQ(error, ref.VirtualFree(addr, size, type)) << "step " << step;
        count(error);
        break;
      }
      case 5: {
        const uint64_t addr = pick_addr();
        const uint64_t size = pick_size();
        uint32_t got_old = 0xDEAD;
        uint32_t want_old = 0xDEAD;
        const uint32_t error = space.VirtualProtect(addr, size, protect, &got_old);
        ASSERT_EQ(error, ref.VirtualProtect(addr, size, protect, &want_old)) << "step " << step;
        ASSERT_EQ(got_old, want_old) << "step " << step;
        count(error);
        break;
      }
      default: {
        const uint64_t addr = pick_addr();
        MemoryBasicInformation got;
        uint32_t error = 0;
        const uint64_t n = space.VirtualQuery(addr, &got, &error);
        if (addr >= kEnd) {
          ASSERT_EQ(n, 0u);
          ASSERT_EQ(error, kErrorInvalidParameter);
        } else {
          ASSERT_EQ(got, ref.Query(addr)) << "step " << step;
        }
        break;
      }
    }
    if (step % 50 == 0) {
      CompareAll(space, ref, step);
      if (HasFatalFailure()) return;
    }
  }
  CompareAll(space, ref, -1);
  // The sequence must exercise both outcomes substantially, or it proves little.
  EXPECT_GT(ok, 300);
  EXPECT_GT(failed, 300);
  EXPECT_GT(space.metrics().peak_committed_bytes, 0x100000u);
}

TEST_P(RandomizedConsistencyTest, PosixOperationsMatchReference) {
  const int seed = GetParam();
  std::mt19937_64 rng(seed * 7919);
  const uint64_t limit = seed % 2 == 0 ? UINT64_MAX : 0x100000;
  AddressSpace space(Config(Placement::kBottomUp, limit));
  ReferenceSpace ref(limit);
  int posix_ok = 0;
  int posix_failed = 0;
  const int prots[] = {la::kProtNone, la::kProtRead, la::kProtRead | la::kProtWrite,
                       la::kProtRead | la::kProtExec};
  for (int step = 0; step < 3000; ++step) {
    space.set_event_index(step);
    const uint64_t addr = kMin + (rng() % ((kEnd - kMin) / kPage)) * kPage;
    const uint64_t max_len = kEnd - addr;
    const uint64_t len = std::min<uint64_t>(max_len, 1 + rng() % 0x20000);
    const int prot = prots[rng() % std::size(prots)];
    switch (rng() % 4) {
      case 0: {
        AddressSpace::MmapOutcome got =
            space.Mmap(addr, len, prot, la::kMapPrivate | la::kMapAnonymous | la::kMapFixed);
        const int want = ref.MmapFixed(addr, len, prot);
        ASSERT_EQ(got.error, want) << "step " << step;
        if (want == 0) {
          ASSERT_EQ(got.address, addr);
        }
        break;
      }
      case 1:
        ASSERT_EQ(space.Munmap(addr, len), ref.Munmap(addr, len)) << "step " << step;
        break;
      case 2: {
        const int error = space.Mprotect(addr, len, prot);
        ASSERT_EQ(error, ref.Mprotect(addr, len, prot)) << "step " << step;
        (error == 0 ? posix_ok : posix_failed)++;
        break;
      }
      default: {
        const int error = space.Madvise(addr, len, la::kMadvDontNeed);
        ASSERT_EQ(error, ref.MadviseDontNeed(addr, len)) << "step " << step;
        (error == 0 ? posix_ok : posix_failed)++;
        break;
      }
    }
    if (step % 50 == 0) {
      CompareAll(space, ref, step);
      if (HasFatalFailure()) return;
    }
  }
  CompareAll(space, ref, -1);
  EXPECT_GT(posix_ok, 200);
  EXPECT_GT(posix_failed, 100);
  EXPECT_GT(space.metrics().region_count, 10u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomizedConsistencyTest, ::testing::Range(1, 7));

}  // namespace
}  // namespace vmreplay::sim
