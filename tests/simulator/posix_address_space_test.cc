// POSIX-mode (Linux mmap family) semantics of AddressSpace.
#include <gtest/gtest.h>

#include "simulator/address_space.h"
#include "simulator/posix_constants.h"
#include "simulator/win32_constants.h"

namespace vmreplay::sim {
namespace {

using namespace vmreplay::linux_abi;  // NOLINT: constants only.
using win32::kMemCommit;
using win32::kMemFree;
using win32::kMemMapped;
using win32::kMemPrivate;
using win32::kMemReserve;
using win32::kPageExecuteRead;
using win32::kPageNoAccess;
using win32::kPageReadOnly;
using win32::kPageReadWrite;

constexpr uint64_t kPage = 0x1000;
constexpr int kAnon = kMapPrivate | kMapAnonymous;
constexpr uint64_t kTop = 0x7FFFFFFFF000;  // Linux64 user_end.

class PosixAddressSpaceTest : public ::testing::Test {
 protected:
  PosixAddressSpaceTest() : space_(MakeConfig()) {}
  static AddressSpaceConfig MakeConfig() {
    AddressSpaceConfig config = AddressSpaceConfig::Linux64();
    config.mmap_top_down = false;  // Predictable low addresses in most tests.
    return config;
  }
  MemoryBasicInformation Query(uint64_t addr) {
    MemoryBasicInformation info;
    uint32_t error = 0;
    EXPECT_NE(space_.VirtualQuery(addr, &info, &error), 0u);
    return info;
  }
  uint64_t Map(uint64_t length, int prot, int flags = kAnon, uint64_t addr = 0) {
    AddressSpace::MmapOutcome out = space_.Mmap(addr, length, prot, flags);
    EXPECT_EQ(out.error, 0);
    return out.address;
  }
  void ExpectConsistent() { EXPECT_EQ(space_.CheckInvariants(), ""); }

  AddressSpace space_;
};

TEST_F(PosixAddressSpaceTest, AnonymousMappingsAreCommittedOrReserved) {
  uint64_t a = Map(0x1800, kProtRead | kProtWrite);
  EXPECT_EQ(a, 0x10000u);
  EXPECT_EQ(Query(a), (MemoryBasicInformation{a, a, kPageReadWrite, 0x2000, kMemCommit,
                                              kPageReadWrite, kMemPrivate}));
  // Page granularity: the next mapping follows immediately.
  uint64_t b = Map(0x10000, kProtNone);
  EXPECT_EQ(b, a + 0x2000);
  EXPECT_EQ(Query(b),
            (MemoryBasicInformation{b, b, kPageNoAccess, 0x10000, kMemReserve, 0, kMemPrivate}));
  EXPECT_EQ(space_.metrics().committed_bytes, 0x2000u);
  EXPECT_EQ(space_.metrics().reserved_bytes, 0x12000u);
  ExpectConsistent();
}

TEST_F(PosixAddressSpaceTest, TopDownByDefault) {
  AddressSpace linux_space(AddressSpaceConfig::Linux64());
  AddressSpace::MmapOutcome a = linux_space.Mmap(0, 0x3000, kProtRead, kAnon);
  EXPECT_EQ(a.address, kTop - 0x3000);
  AddressSpace::MmapOutcome b = linux_space.Mmap(0, 0x1000, kProtRead, kAnon);
  EXPECT_EQ(b.address, kTop - 0x4000);
}

TEST_F(PosixAddressSpaceTest, HintUsedWhenFree) {
  uint64_t a = Map(0x2000, kProtRead, kAnon, 0x40000123);
  EXPECT_EQ(a, 0x40000000u);
  // Occupied hint: placed by policy.
  uint64_t b = Map(0x2000, kProtRead, kAnon, 0x40001000);
  EXPECT_EQ(b, 0x10000u);
}

TEST_F(PosixAddressSpaceTest, ArgumentErrors) {
  EXPECT_EQ(space_.Mmap(0, 0, kProtRead, kAnon).error, kEinval);
  EXPECT_EQ(space_.Mmap(0, 0x1000, kProtRead, kMapAnonymous).error, kEinval);  // No type.
  EXPECT_EQ(space_.Mmap(0, 0x1000, 0x8, kAnon).error, kEinval);
  EXPECT_EQ(space_.Mmap(0x10001, 0x1000, kProtRead, kAnon | kMapFixed).error, kEinval);
  EXPECT_EQ(space_.Mmap(0x1000, 0x1000, kProtRead, kAnon | kMapFixed).error, kEperm);
  EXPECT_EQ(space_.Mmap(kTop, 0x1000, kProtRead, kAnon | kMapFixed).error, kEnomem);
  EXPECT_EQ(space_.Mmap(0, 1ull << 60, kProtRead, kAnon).error, kEnomem);
  EXPECT_EQ(space_.Munmap(0x10001, 0x1000), kEinval);
  EXPECT_EQ(space_.Munmap(0x10000, 0), kEinval);
  EXPECT_EQ(space_.Mprotect(0x10001, 0x1000, kProtRead), kEinval);
  EXPECT_EQ(space_.Madvise(0x10000, 0x1000, 6), kEinval);
  EXPECT_EQ(space_.metrics().failed_calls, 11u);
  EXPECT_EQ(space_.metrics().failed_reservations, 1u);
}

TEST_F(PosixAddressSpaceTest, MapFixedReplacesExistingPages) {
  uint64_t a = Map(0x4000, kProtRead | kProtWrite);
  AddressSpace::MmapOutcome f =
      space_.Mmap(a + 0x1000, 0x2000, kProtNone, kAnon | kMapFixed | kMapNoReserve);
  ASSERT_EQ(f.error, 0);
  EXPECT_EQ(f.address, a + 0x1000);
  EXPECT_EQ(Query(a).region_size, 0x1000u);
  EXPECT_EQ(Query(a + 0x1000), (MemoryBasicInformation{a + 0x1000, a + 0x1000, kPageNoAccess,
                                                       0x2000, kMemReserve, 0, kMemPrivate}));
  EXPECT_EQ(Query(a + 0x3000).allocation_base, a);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x2000u);
  EXPECT_EQ(space_.metrics().reserved_bytes, 0x4000u);
  // MAP_FIXED_NOREPLACE refuses occupied ranges.
  EXPECT_EQ(space_.Mmap(a, 0x1000, kProtRead, kAnon | kMapFixedNoReplace).error, kEexist);
  EXPECT_EQ(space_.Mmap(a + 0x4000, 0x1000, kProtRead, kAnon | kMapFixedNoReplace).address,
            a + 0x4000);
  ExpectConsistent();
}

TEST_F(PosixAddressSpaceTest, MunmapInTheMiddleSplitsTheMapping) {
  uint64_t a = Map(0x10000, kProtRead | kProtWrite);
  ASSERT_EQ(space_.Munmap(a + 0x4000, 0x2000), 0);
  EXPECT_EQ(Query(a).region_size, 0x4000u);
  EXPECT_EQ(Query(a + 0x4000),
            (MemoryBasicInformation{a + 0x4000, 0, 0, 0x2000, kMemFree, kPageNoAccess, 0}));
  EXPECT_EQ(Query(a + 0x6000), (MemoryBasicInformation{a + 0x6000, a, kPageReadWrite, 0xA000,
                                                       kMemCommit, kPageReadWrite, kMemPrivate}));
  EXPECT_EQ(space_.metrics().committed_bytes, 0xE000u);
  EXPECT_EQ(space_.metrics().region_count, 2u);
  // Unmapping over holes and beyond mappings is fine.
  ASSERT_EQ(space_.Munmap(a, 0x100000), 0);
  EXPECT_EQ(space_.metrics().reserved_bytes, 0u);
  EXPECT_EQ(space_.Munmap(a, 0x1000), 0);
  ExpectConsistent();
}

TEST_F(PosixAddressSpaceTest, MprotectSplitsAndCommitsOrDecommits) {
  uint64_t a = Map(0x8000, kProtNone);
  ASSERT_EQ(space_.Mprotect(a + 0x2000, 0x3000, kProtRead | kProtWrite), 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x3000u);
  EXPECT_EQ(Query(a + 0x2000), (MemoryBasicInformation{a + 0x2000, a, kPageNoAccess, 0x3000,
                                                       kMemCommit, kPageReadWrite, kMemPrivate}));
  ASSERT_EQ(space_.Mprotect(a + 0x3000, 0x1000, kProtRead | kProtExec), 0);
  EXPECT_EQ(Query(a + 0x3000).protect, kPageExecuteRead);
  EXPECT_EQ(space_.metrics().region_count, 5u);
  // PROT_NONE decommits.
  ASSERT_EQ(space_.Mprotect(a + 0x2000, 0x3000, kProtNone), 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 0u);
  EXPECT_EQ(space_.metrics().region_count, 1u);
  // Unmapped pages in the range: ENOMEM and nothing changes.
  EXPECT_EQ(space_.Mprotect(a + 0x7000, 0x2000, kProtRead), kEnomem);
  EXPECT_EQ(Query(a + 0x7000).state, kMemReserve);
  EXPECT_EQ(space_.Mprotect(a, 0, kProtRead), 0);
  // mprotect may span mappings.
  uint64_t b = Map(0x1000, kProtNone, kAnon | kMapFixed, a + 0x8000);
  ASSERT_EQ(space_.Mprotect(a + 0x7000, 0x2000, kProtRead), 0);
  EXPECT_EQ(Query(b).protect, kPageReadOnly);
  ExpectConsistent();
}

TEST_F(PosixAddressSpaceTest, MadviseDontNeedDropsCommit) {
  uint64_t a = Map(0x8000, kProtRead | kProtWrite);
  ASSERT_EQ(space_.Madvise(a + 0x1000, 0x2000, kMadvDontNeed), 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x6000u);
  EXPECT_EQ(Query(a + 0x1000).state, kMemReserve);
  ASSERT_EQ(space_.Madvise(a + 0x4000, 0x1000, kMadvFree), 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x5000u);
  // Other advice is a no-op.
  ASSERT_EQ(space_.Madvise(a, 0x8000, kMadvWillNeed), 0);
  ASSERT_EQ(space_.Madvise(a, 0x8000, kMadvSequential), 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x5000u);
  // Partially unmapped: the mapped part is advised, ENOMEM returned.
  EXPECT_EQ(space_.Madvise(a + 0x7000, 0x2000, kMadvDontNeed), kEnomem);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x4000u);
  // Recommit by mprotect.
  ASSERT_EQ(space_.Mprotect(a, 0x8000, kProtRead | kProtWrite), 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x8000u);
  EXPECT_EQ(space_.metrics().region_count, 1u);
  ExpectConsistent();
}

TEST_F(PosixAddressSpaceTest, SharedFileMappingsAreNotCharged) {
  uint64_t f = Map(0x4000, kProtRead | kProtWrite, kMapShared);
  EXPECT_EQ(Query(f).type, kMemMapped);
  EXPECT_EQ(Query(f).state, kMemCommit);
  EXPECT_EQ(space_.metrics().committed_bytes, 0u);
  EXPECT_EQ(space_.metrics().reserved_bytes, 0x4000u);
  uint64_t p = Map(0x1000, kProtRead, kMapPrivate);  // Private file mapping: charged.
  EXPECT_EQ(Query(p).type, kMemMapped);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x1000u);
  uint64_t s = Map(0x1000, kProtRead | kProtWrite, kMapShared | kMapAnonymous);  // shmem.
  EXPECT_EQ(Query(s).type, kMemPrivate);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x2000u);
  ASSERT_EQ(space_.Madvise(f, 0x4000, kMadvDontNeed), 0);
  EXPECT_EQ(Query(f).state, kMemCommit);
  ExpectConsistent();
}

TEST_F(PosixAddressSpaceTest, CommitLimitGivesEnomem) {
  AddressSpaceConfig config = MakeConfig();
  config.commit_limit = 0x4000;
  AddressSpace space(config);
  AddressSpace::MmapOutcome a = space.Mmap(0, 0x10000, kProtNone, kAnon);
  ASSERT_EQ(a.error, 0);
  EXPECT_EQ(space.Mprotect(a.address, 0x5000, kProtRead | kProtWrite), kEnomem);
  EXPECT_EQ(space.Mprotect(a.address, 0x4000, kProtRead | kProtWrite), 0);
  EXPECT_EQ(space.Mmap(0, 0x1000, kProtRead, kAnon).error, kEnomem);
  // MAP_FIXED over committed pages frees them first.
  EXPECT_EQ(space.Mmap(a.address, 0x2000, kProtRead, kAnon | kMapFixed).error, 0);
  EXPECT_EQ(space.metrics().committed_bytes, 0x4000u);
  EXPECT_EQ(space.metrics().commit_limit_failures, 2u);
  EXPECT_EQ(space.CheckInvariants(), "");
}

TEST_F(PosixAddressSpaceTest, MremapShrinksAndGrowsInPlace) {
  uint64_t a = Map(0x4000, kProtRead | kProtWrite);
  AddressSpace::MmapOutcome r = space_.Mremap(a, 0x4000, 0x2000, 0, 0);
  ASSERT_EQ(r.error, 0);
  EXPECT_EQ(r.address, a);
  EXPECT_EQ(space_.metrics().reserved_bytes, 0x2000u);
  r = space_.Mremap(a, 0x2000, 0x6000, 0, 0);
  ASSERT_EQ(r.error, 0);
  EXPECT_EQ(r.address, a);
  EXPECT_EQ(Query(a), (MemoryBasicInformation{a, a, kPageReadWrite, 0x6000, kMemCommit,
                                              kPageReadWrite, kMemPrivate}));
  EXPECT_EQ(space_.metrics().committed_bytes, 0x6000u);
  ExpectConsistent();
}

TEST_F(PosixAddressSpaceTest, MremapMovesWhenBlocked) {
  uint64_t a = Map(0x3000, kProtRead | kProtWrite);
  ASSERT_EQ(space_.Mprotect(a + 0x1000, 0x1000, kProtNone), 0);
  uint64_t blocker = Map(0x1000, kProtRead);
  ASSERT_EQ(blocker, a + 0x3000);
  EXPECT_EQ(space_.Mremap(a, 0x3000, 0x5000, 0, 0).error, kEnomem);  // No MREMAP_MAYMOVE.
  AddressSpace::MmapOutcome r = space_.Mremap(a, 0x3000, 0x5000, kMremapMayMove, 0);
  ASSERT_EQ(r.error, 0);
  EXPECT_EQ(r.address, blocker + 0x1000);
  EXPECT_EQ(Query(a).state, kMemFree);
  // Per-page state travels; the new tail takes the last page's attributes.
  EXPECT_EQ(Query(r.address), (MemoryBasicInformation{r.address, r.address, kPageReadWrite, 0x1000,
                                                      kMemCommit, kPageReadWrite, kMemPrivate}));
  EXPECT_EQ(Query(r.address + 0x1000).state, kMemReserve);
  EXPECT_EQ(Query(r.address + 0x2000).region_size, 0x3000u);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x1000u + 0x1000u + 0x3000u);
  ExpectConsistent();
}

TEST_F(PosixAddressSpaceTest, MremapFixedAndErrors) {
  uint64_t a = Map(0x2000, kProtRead | kProtWrite);
  uint64_t target = 0x50000000;
  Map(0x1000, kProtRead, kAnon | kMapFixed, target);  // Will be replaced.
  AddressSpace::MmapOutcome r =
      space_.Mremap(a, 0x2000, 0x2000, kMremapMayMove | kMremapFixed, target);
  ASSERT_EQ(r.error, 0);
  EXPECT_EQ(r.address, target);
  EXPECT_EQ(Query(target).region_size, 0x2000u);
  EXPECT_EQ(Query(target).protect, kPageReadWrite);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x2000u);
  EXPECT_EQ(space_.Mremap(target, 0x2000, 0x1000, kMremapFixed, a).error, kEinval);
  EXPECT_EQ(
      space_.Mremap(target, 0x2000, 0x3000, kMremapMayMove | kMremapFixed, target + 0x1000).error,
      kEinval);  // Overlap.
  EXPECT_EQ(space_.Mremap(target, 0, 0x1000, kMremapMayMove, 0).error, kEinval);
  EXPECT_EQ(space_.Mremap(target, 0x1000, 0, kMremapMayMove, 0).error, kEinval);
  EXPECT_EQ(space_.Mremap(a, 0x1000, 0x2000, kMremapMayMove, 0).error, kEfault);  // Unmapped.
  uint64_t b = Map(0x1000, kProtRead, kAnon | kMapFixed, target + 0x2000);
  EXPECT_EQ(space_.Mremap(target, 0x3000, 0x4000, kMremapMayMove, 0).error, kEfault);  // 2 maps.
  (void)b;
  ExpectConsistent();
}

TEST_F(PosixAddressSpaceTest, LayoutFaithfulMmapUsesRecordedAddress) {
  AddressSpaceConfig config = MakeConfig();
  config.placement = Placement::kLayoutFaithful;
  AddressSpace space(config);
  EXPECT_EQ(space.Mmap(0, 0x2000, kProtRead, kAnon, 0x7F0000001000).address, 0x7F0000001000u);
  EXPECT_EQ(space.Mmap(0, 0x2000, kProtRead, kAnon, 0x7F0000002000).address, 0x10000u);
  EXPECT_EQ(space.metrics().placement_fallbacks, 1u);
  // Growing in place is impossible (blocked), so the move goes where the trace says.
  ASSERT_EQ(space.Mmap(0x7F0000003000, 0x1000, kProtRead, kAnon | kMapFixed).error, 0);
  uint64_t r =
      space.Mremap(0x7F0000001000, 0x2000, 0x100000, kMremapMayMove, 0, 0x7E0000000000).address;
  EXPECT_EQ(r, 0x7E0000000000u);
}

}  // namespace
}  // namespace vmreplay::sim

namespace vmreplay::sim {
namespace {

// Foreign mappings (a trace's address-space snapshot): they occupy address space, answer
// VirtualQuery and block growth in place, but are never the trace's commit or reservation,
// whatever the trace then does to them.
class ForeignMappingTest : public PosixAddressSpaceTest {};

TEST_F(ForeignMappingTest, OccupiesSpaceWithoutCountingAsCommitOrReservation) {
  ASSERT_TRUE(space_.PlaceForeign(0x40000000, 16 * kPage, kProtRead | kProtExec, false, true));
  EXPECT_EQ(space_.metrics().committed_bytes, 0u);
  EXPECT_EQ(space_.metrics().reserved_bytes, 0u);
  EXPECT_EQ(space_.metrics().peak_committed_bytes, 0u);
  const MemoryBasicInformation info = Query(0x40000000 + kPage);
  EXPECT_EQ(info.state, kMemCommit);
  EXPECT_EQ(info.type, kMemMapped);
  EXPECT_EQ(info.protect, kPageExecuteRead);
  EXPECT_EQ(info.region_size, 15 * kPage);
  // Not placed twice, nor over anything else, nor off a page boundary.
  EXPECT_FALSE(space_.PlaceForeign(0x40000000 + 8 * kPage, 16 * kPage, kProtRead, false, true));
  EXPECT_FALSE(space_.PlaceForeign(0x50000001, kPage, kProtRead, false, false));
  ExpectConsistent();
}

TEST_F(ForeignMappingTest, TraceMayProtectAndUnmapItWithoutTouchingItsFigures) {
  ASSERT_TRUE(space_.PlaceForeign(0x40000000, 16 * kPage, kProtRead | kProtWrite, false, false));
  const uint64_t own = Map(4 * kPage, kProtRead | kProtWrite);
  EXPECT_EQ(space_.metrics().committed_bytes, 4 * kPage);
  EXPECT_EQ(space_.Mprotect(0x40000000, 4 * kPage, kProtNone), 0);
  EXPECT_EQ(space_.Mprotect(0x40000000, 4 * kPage, kProtRead), 0);
  EXPECT_EQ(space_.Munmap(0x40000000 + 8 * kPage, 8 * kPage), 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 4 * kPage);
  EXPECT_EQ(space_.metrics().reserved_bytes, 4 * kPage);
  ExpectConsistent();
  // MAP_FIXED over what is left of it: the new mapping is the trace's own.
  EXPECT_EQ(space_.Mmap(0x40000000, 8 * kPage, kProtRead | kProtWrite, kAnon | kMapFixed).error, 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 12 * kPage);
  EXPECT_EQ(space_.Munmap(own, 4 * kPage), 0);
  EXPECT_EQ(space_.Munmap(0x40000000, 8 * kPage), 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 0u);
  EXPECT_EQ(space_.metrics().reserved_bytes, 0u);
  ExpectConsistent();
}

TEST_F(ForeignMappingTest, BlocksGrowthInPlaceSoMremapMoves) {
  const uint64_t own = Map(8 * kPage, kProtRead | kProtWrite, kAnon, 0x40000000);
  ASSERT_EQ(own, 0x40000000u);
  ASSERT_TRUE(space_.PlaceForeign(own + 8 * kPage, kPage, kProtRead, false, true));
  EXPECT_EQ(space_.Mremap(own, 8 * kPage, 16 * kPage, 0, 0).error, kEnomem);
  const AddressSpace::MmapOutcome moved =
      space_.Mremap(own, 8 * kPage, 16 * kPage, kMremapMayMove, 0);
  ASSERT_EQ(moved.error, 0);
  EXPECT_NE(moved.address, own);
  EXPECT_EQ(space_.metrics().committed_bytes, 16 * kPage);
  EXPECT_EQ(space_.metrics().reserved_bytes, 16 * kPage);
  ExpectConsistent();
}

TEST_F(ForeignMappingTest, GrowthOfAForeignMappingIsHeldToTheCommitLimit) {
  AddressSpaceConfig config = MakeConfig();
  config.commit_limit = kPage;
  AddressSpace space(config);
  ASSERT_TRUE(space.PlaceForeign(0x40000000, 4 * kPage, kProtRead | kProtWrite, false, false));
  EXPECT_EQ(space.Mremap(0x40000000, 4 * kPage, 6 * kPage, 0, 0).error, kEnomem);
  EXPECT_EQ(space.metrics().commit_limit_failures, 1u);
  EXPECT_EQ(space.Mremap(0x40000000, 4 * kPage, 5 * kPage, 0, 0).error, 0);
  EXPECT_EQ(space.metrics().committed_bytes, kPage);
  EXPECT_EQ(space.CheckInvariants(), "");
}

TEST_F(ForeignMappingTest, MadviseKeepsAForeignMappingsStateWhateverItsNeighbours) {
  const uint64_t own = Map(4 * kPage, kProtRead | kProtWrite, kAnon, 0x40000000);
  ASSERT_TRUE(
      space_.PlaceForeign(own + 4 * kPage, 4 * kPage, kProtRead | kProtWrite, false, false));
  EXPECT_EQ(space_.Madvise(own, 8 * kPage, kMadvDontNeed), 0);
  EXPECT_EQ(Query(own + 4 * kPage).state, kMemCommit) << "the foreign half keeps its pages";
  EXPECT_EQ(space_.metrics().committed_bytes, 0u);
  ExpectConsistent();
}

TEST_F(ForeignMappingTest, GrowingAForeignMappingChargesOnlyTheGrowth) {
  ASSERT_TRUE(space_.PlaceForeign(0x40000000, 4 * kPage, kProtRead | kProtWrite, false, false));
  const AddressSpace::MmapOutcome grown = space_.Mremap(0x40000000, 4 * kPage, 6 * kPage, 0, 0);
  ASSERT_EQ(grown.error, 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 2 * kPage);
  EXPECT_EQ(space_.metrics().reserved_bytes, 2 * kPage);
  EXPECT_EQ(space_.Munmap(0x40000000, 6 * kPage), 0);
  EXPECT_EQ(space_.metrics().committed_bytes, 0u);
  ExpectConsistent();
}

}  // namespace
}  // namespace vmreplay::sim
