// Win32-mode semantics of AddressSpace: every rule and error of VirtualAlloc, VirtualFree,
// VirtualProtect and VirtualQuery that the simulator models.
#include "simulator/address_space.h"

#include <gtest/gtest.h>

#include "simulator/win32_constants.h"

namespace vmreplay::sim {
namespace {

using namespace vmreplay::win32;  // NOLINT: constants only.

constexpr uint64_t kPage = 0x1000;
constexpr uint64_t kGranule = 0x10000;
constexpr uint64_t kLow = 0x10000;  // First allocation goes here (bottom-up).

class AddressSpaceTest : public ::testing::Test {
 protected:
  AddressSpaceTest() : space_(AddressSpaceConfig::Win64()) {}

  MemoryBasicInformation Query(uint64_t addr) {
    MemoryBasicInformation info;
    uint32_t error = 12345;
    EXPECT_EQ(space_.VirtualQuery(addr, &info, &error), kMemoryBasicInformationSize64);
    EXPECT_EQ(error, 0u);
    return info;
  }
  uint64_t Reserve(uint64_t size, uint32_t protect = kPageReadWrite) {
    AllocOutcome out = space_.VirtualAlloc(0, size, kMemReserve, protect);
    EXPECT_EQ(out.error, 0u);
    return out.address;
  }
  void ExpectConsistent() { EXPECT_EQ(space_.CheckInvariants(), ""); }

  AddressSpace space_;
};

TEST_F(AddressSpaceTest, ReserveRoundsSizeToPagesAndBaseToGranularity) {
  AllocOutcome a = space_.VirtualAlloc(0, 0xFFFC, kMemReserve, kPageNoAccess);
  ASSERT_EQ(a.error, 0u);
  EXPECT_EQ(a.address, kLow);
  EXPECT_EQ(Query(a.address), (MemoryBasicInformation{kLow, kLow, kPageNoAccess, 0x10000,
                                                      kMemReserve, 0, kMemPrivate}));
  // A one-page reservation still takes a whole granule of address space for the next one.
  AllocOutcome b = space_.VirtualAlloc(0, 1, kMemReserve, kPageReadWrite);
  EXPECT_EQ(b.address, kLow + kGranule);
  AllocOutcome c = space_.VirtualAlloc(0, 1, kMemReserve, kPageReadWrite);
  EXPECT_EQ(c.address, kLow + 2 * kGranule);
  EXPECT_EQ(Query(b.address).region_size, kPage);
  // The rest of b's granule is free but unusable for reservations.
  EXPECT_EQ(Query(b.address + kPage),
            (MemoryBasicInformation{b.address + kPage, 0, 0, kGranule - kPage, kMemFree,
                                    kPageNoAccess, 0}));
  EXPECT_EQ(space_.metrics().reserved_bytes, 0x10000 + 2 * kPage);
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, ReserveAtAddressRoundsDownToGranularity) {
  AllocOutcome a = space_.VirtualAlloc(0x1234567, 0x100, kMemReserve, kPageReadWrite);
  ASSERT_EQ(a.error, 0u);
  EXPECT_EQ(a.address, 0x1230000u);
  // The reservation spans from the rounded base to the page holding the last byte.
  MemoryBasicInformation info = Query(0x1230000);
  EXPECT_EQ(info.region_size, 0x5000u);
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, ReserveAtOccupiedAddressFailsWithInvalidAddress) {
  uint64_t a = Reserve(0x2000);
  EXPECT_EQ(space_.VirtualAlloc(a, 0x1000, kMemReserve, kPageReadWrite).error,
            kErrorInvalidAddress);
  // Also when only the 64K-rounded base conflicts (Wine test: STATUS_CONFLICTING_ADDRESSES).
  EXPECT_EQ(space_.VirtualAlloc(a + 0x1000, 0x1000, kMemReserve | kMemCommit, kPageReadWrite).error,
            kErrorInvalidAddress);
  EXPECT_EQ(space_.metrics().failed_calls, 2u);
}

TEST_F(AddressSpaceTest, ReserveOutsideUserSpaceFailsWithInvalidParameter) {
  EXPECT_EQ(space_.VirtualAlloc(0x1000, 0x1000, kMemReserve, kPageReadWrite).error,
            kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(0x7FFFFFFE0000, 0x20000, kMemReserve, kPageReadWrite).error,
            kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(~0ull - 0xFFF, 0x2000, kMemReserve, kPageReadWrite).error,
            kErrorInvalidParameter);
  // The last granule of user space is usable.
  EXPECT_EQ(space_.VirtualAlloc(0x7FFFFFFE0000, 0x10000, kMemReserve, kPageReadWrite).error, 0u);
}

TEST_F(AddressSpaceTest, ZeroSizeAndBadFlagsAndBadProtectionFailWithInvalidParameter) {
  EXPECT_EQ(space_.VirtualAlloc(0, 0, kMemReserve, kPageNoAccess).error, kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(0, 0x1000, 0, kPageReadWrite).error, kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(0, 0x1000, kMemTopDown, kPageReadWrite).error,
            kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(0, 0x1000, kMemReserve | 0x1, kPageReadWrite).error,
            kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(0, 0x1000, kMemReserve | kMemReset, kPageReadWrite).error,
            kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(0, 0x1000, kMemDecommit, kPageReadWrite).error,
            kErrorInvalidParameter);
  // Protection values (Wine conformance tests).
  EXPECT_EQ(space_.VirtualAlloc(0, 0x1000, kMemReserve, 0).error, kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(0, 0x1000, kMemCommit, 0).error, kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(0, 0x1000, kMemCommit, kPageReadOnly | kPageExecute).error,
            kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(0, 0x1000, kMemCommit, kPageWriteCopy).error,
            kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(0, 0x1000, kMemCommit, kPageNoAccess | kPageGuard).error,
            kErrorInvalidParameter);
  EXPECT_EQ(
      space_.VirtualAlloc(0, 0x1000, kMemCommit, kPageReadWrite | kPageGuard | kPageNoCache).error,
      kErrorInvalidParameter);
  EXPECT_EQ(space_.metrics().reserved_bytes, 0u);
  // A valid modifier is kept and reported.
  AllocOutcome g = space_.VirtualAlloc(0, 0x1000, kMemCommit, kPageReadWrite | kPageGuard);
  ASSERT_EQ(g.error, 0u);
  EXPECT_EQ(Query(g.address).protect, kPageReadWrite | kPageGuard);
}

TEST_F(AddressSpaceTest, CommitWithNullAddressReservesAndCommits) {
  AllocOutcome a = space_.VirtualAlloc(0, 0x2001, kMemCommit, kPageReadWrite);
  ASSERT_EQ(a.error, 0u);
  EXPECT_EQ(a.address, kLow);
  EXPECT_EQ(Query(a.address), (MemoryBasicInformation{kLow, kLow, kPageReadWrite, 0x3000,
                                                      kMemCommit, kPageReadWrite, kMemPrivate}));
  EXPECT_EQ(space_.metrics().committed_bytes, 0x3000u);
  EXPECT_EQ(space_.metrics().reserved_bytes, 0x3000u);
  AllocOutcome b = space_.VirtualAlloc(0, 0x1000, kMemReserve | kMemCommit, kPageReadOnly);
  EXPECT_EQ(b.address, kLow + kGranule);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x4000u);
}

TEST_F(AddressSpaceTest, TopDownPlacesAtHighestFittingAddress) {
  AllocOutcome a = space_.VirtualAlloc(0, 0x3000, kMemReserve | kMemTopDown, kPageReadWrite);
  ASSERT_EQ(a.error, 0u);
  EXPECT_EQ(a.address, 0x7FFFFFFE0000u);  // Highest granule-aligned base with 0x3000 bytes below
                                          // the end of user space (0x7FFFFFFF0000).
  AllocOutcome b = space_.VirtualAlloc(0, 0x10000, kMemReserve | kMemTopDown, kPageReadWrite);
  EXPECT_EQ(b.address, 0x7FFFFFFD0000u);
  // Top-down ignored with an explicit address.
  AllocOutcome c = space_.VirtualAlloc(0x500000, 0x1000, kMemReserve | kMemTopDown, kPageReadWrite);
  EXPECT_EQ(c.address, 0x500000u);
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, BottomUpIsFirstFitOnGranularity) {
  uint64_t a = Reserve(0x10000);
  uint64_t b = Reserve(0x30000);
  uint64_t c = Reserve(0x10000);
  ASSERT_EQ(space_.VirtualFree(b, 0, kMemRelease), 0u);
  // A 0x20000 request fits in b's hole: first fit reuses it.
  EXPECT_EQ(Reserve(0x20000), b);
  // 0x20000 does not fit in the remaining 0x10000 hole: goes after c.
  EXPECT_EQ(Reserve(0x20000), c + 0x10000);
  // 0x10000 fits in the hole.
  EXPECT_EQ(Reserve(0x8000), b + 0x20000);
  (void)a;
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, OutOfAddressSpaceFailsWithNotEnoughMemory) {
  AddressSpace small(AddressSpaceConfig::Win32_2GiB());
  // 0x10000 .. 0x7FFF0000 is 0x7FFE0000 bytes.
  AllocOutcome big = small.VirtualAlloc(0, 0x7FFE0000, kMemReserve, kPageReadWrite);
  ASSERT_EQ(big.error, 0u);
  EXPECT_EQ(big.address, 0x10000u);
  EXPECT_EQ(small.metrics().largest_free_block, 0u);
  AllocOutcome fail = small.VirtualAlloc(0, 0x1000, kMemReserve, kPageReadWrite);
  EXPECT_EQ(fail.error, kErrorNotEnoughMemory);
  EXPECT_EQ(fail.address, 0u);
  // Larger than the whole user address space: rejected as a bad size before any search (the
  // differential test against Wine pins this: ERROR_INVALID_PARAMETER, not NOT_ENOUGH_MEMORY).
  AllocOutcome huge = small.VirtualAlloc(0, 0x90000000, kMemReserve, kPageReadWrite);
  EXPECT_EQ(huge.error, kErrorInvalidParameter);
  EXPECT_EQ(small.metrics().failed_reservations, 2u);
  EXPECT_EQ(small.metrics().largest_failed_reservation, 0x90000000u);
  // 32-bit address space: VirtualQuery writes the 32-bit structure.
  MemoryBasicInformation info;
  uint32_t error = 1;
  EXPECT_EQ(small.VirtualQuery(0x10000, &info, &error), kMemoryBasicInformationSize32);
}

TEST_F(AddressSpaceTest, CommitInsideReservationSplitsRegions) {
  uint64_t a = Reserve(0x10000, kPageNoAccess);
  // The address is rounded down to the page, the size covers every touched page.
  AllocOutcome c = space_.VirtualAlloc(a + 0x1800, 0x1000, kMemCommit, kPageReadWrite);
  ASSERT_EQ(c.error, 0u);
  EXPECT_EQ(c.address, a + 0x1000);
  EXPECT_EQ(Query(a),
            (MemoryBasicInformation{a, a, kPageNoAccess, 0x1000, kMemReserve, 0, kMemPrivate}));
  EXPECT_EQ(Query(a + 0x1000), (MemoryBasicInformation{a + 0x1000, a, kPageNoAccess, 0x2000,
                                                       kMemCommit, kPageReadWrite, kMemPrivate}));
  EXPECT_EQ(Query(a + 0x2FFF).base_address, a + 0x2000);
  EXPECT_EQ(Query(a + 0x2FFF).region_size, 0x1000u);
  EXPECT_EQ(Query(a + 0x3000), (MemoryBasicInformation{a + 0x3000, a, kPageNoAccess, 0xD000,
                                                       kMemReserve, 0, kMemPrivate}));
  EXPECT_EQ(space_.metrics().committed_bytes, 0x2000u);
  EXPECT_EQ(space_.metrics().region_count, 3u);
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, RecommitSucceedsSetsProtectionAndChargesOnlyNewPages) {
  uint64_t a = Reserve(0x10000);
  ASSERT_EQ(space_.VirtualAlloc(a, 0x2000, kMemCommit, kPageReadWrite).error, 0u);
  ASSERT_EQ(space_.VirtualAlloc(a + 0x1000, 0x2000, kMemCommit, kPageReadOnly).error, 0u);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x3000u);
  EXPECT_EQ(Query(a).protect, kPageReadWrite);
  EXPECT_EQ(Query(a).region_size, 0x1000u);
  EXPECT_EQ(Query(a + 0x1000).protect, kPageReadOnly);
  EXPECT_EQ(Query(a + 0x1000).region_size, 0x2000u);
  // Same protection again: no change, no charge.
  ASSERT_EQ(space_.VirtualAlloc(a + 0x1000, 0x2000, kMemCommit, kPageReadOnly).error, 0u);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x3000u);
  // Recommit everything read-write: regions coalesce into one.
  ASSERT_EQ(space_.VirtualAlloc(a, 0x10000, kMemCommit, kPageReadWrite).error, 0u);
  EXPECT_EQ(Query(a).region_size, 0x10000u);
  EXPECT_EQ(space_.metrics().region_count, 1u);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x10000u);
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, CommitOutsideOneReservationFailsWithInvalidAddress) {
  uint64_t a = Reserve(0x10000);
  uint64_t b = Reserve(0x10000);
  ASSERT_EQ(b, a + 0x10000);
  // Free memory.
  EXPECT_EQ(space_.VirtualAlloc(0x40000000, 0x1000, kMemCommit, kPageReadWrite).error,
            kErrorInvalidAddress);
  // Straddles two adjacent reservations.
  EXPECT_EQ(space_.VirtualAlloc(a + 0xF000, 0x2000, kMemCommit, kPageReadWrite).error,
            kErrorInvalidAddress);
  // Runs off the end of the last reservation into free memory.
  EXPECT_EQ(space_.VirtualAlloc(b + 0xF000, 0x2000, kMemCommit, kPageReadWrite).error,
            kErrorInvalidAddress);
  EXPECT_EQ(space_.metrics().committed_bytes, 0u);
  EXPECT_EQ(space_.metrics().region_count, 2u);
}

TEST_F(AddressSpaceTest, ResetRequiresOneReservationAndChangesNothing) {
  uint64_t a = Reserve(0x10000);
  ASSERT_EQ(space_.VirtualAlloc(a, 0x1000, kMemCommit, kPageReadWrite).error, 0u);
  AllocOutcome r = space_.VirtualAlloc(a, 0x1000, kMemReset, kPageNoAccess);
  EXPECT_EQ(r.error, 0u);
  EXPECT_EQ(r.address, a);
  EXPECT_EQ(Query(a).state, kMemCommit);
  EXPECT_EQ(Query(a).protect, kPageReadWrite);
  // Reserved pages: succeeds (Wine conformance test, NT behaviour), state unchanged.
  r = space_.VirtualAlloc(a + 0x1000, 0x1000, kMemReset, kPageNoAccess);
  EXPECT_EQ(r.error, 0u);
  EXPECT_EQ(Query(a + 0x1000).state, kMemReserve);
  // Across the end of the reservation.
  EXPECT_EQ(space_.VirtualAlloc(a + 0xF000, 0x2000, kMemReset, kPageNoAccess).error,
            kErrorInvalidAddress);
  // Protection is ignored for MEM_RESET, but it cannot be combined with other types.
  EXPECT_EQ(space_.VirtualAlloc(a, 0x1000, kMemReset, 0).error, 0u);
  EXPECT_EQ(space_.VirtualAlloc(a, 0x1000, kMemReset | kMemCommit, kPageReadWrite).error,
            kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualAlloc(a, 0x1000, kMemResetUndo, kPageReadWrite).error, 0u);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x1000u);
}

TEST_F(AddressSpaceTest, CommitLimitFailsWithCommitmentLimit) {
  AddressSpaceConfig config = AddressSpaceConfig::Win64();
  config.commit_limit = 0x5000;
  AddressSpace space(config);
  AllocOutcome a = space.VirtualAlloc(0, 0x10000, kMemReserve, kPageReadWrite);
  ASSERT_EQ(space.VirtualAlloc(a.address, 0x4000, kMemCommit, kPageReadWrite).error, 0u);
  EXPECT_EQ(space.VirtualAlloc(a.address + 0x4000, 0x2000, kMemCommit, kPageReadWrite).error,
            kErrorCommitmentLimit);
  // Recommitting committed pages costs nothing; reaching the limit exactly is allowed.
  EXPECT_EQ(space.VirtualAlloc(a.address, 0x5000, kMemCommit, kPageReadWrite).error, 0u);
  EXPECT_EQ(space.metrics().committed_bytes, 0x5000u);
  EXPECT_EQ(space.VirtualAlloc(0, 0x1000, kMemCommit, kPageReadWrite).error, kErrorCommitmentLimit);
  // A reservation alone is not charged.
  EXPECT_EQ(space.VirtualAlloc(0, 0x100000, kMemReserve, kPageReadWrite).error, 0u);
  EXPECT_EQ(space.metrics().commit_limit_failures, 2u);
  ASSERT_EQ(space.VirtualFree(a.address, 0x1000, kMemDecommit), 0u);
  EXPECT_EQ(space.VirtualAlloc(0, 0x1000, kMemCommit, kPageReadWrite).error, 0u);
  EXPECT_EQ(space.CheckInvariants(), "");
}

TEST_F(AddressSpaceTest, DecommitPartialRangeAndAlreadyDecommittedIsFine) {
  uint64_t a = Reserve(0x10000);
  ASSERT_EQ(space_.VirtualAlloc(a, 0x10000, kMemCommit, kPageReadWrite).error, 0u);
  ASSERT_EQ(space_.VirtualFree(a + 0x2800, 0x1000, kMemDecommit), 0u);  // Pages 2 and 3.
  EXPECT_EQ(Query(a).region_size, 0x2000u);
  EXPECT_EQ(Query(a + 0x2000), (MemoryBasicInformation{a + 0x2000, a, kPageReadWrite, 0x2000,
                                                       kMemReserve, 0, kMemPrivate}));
  EXPECT_EQ(space_.metrics().committed_bytes, 0xE000u);
  ASSERT_EQ(space_.VirtualFree(a + 0x2000, 0x2000, kMemDecommit), 0u);
  EXPECT_EQ(space_.metrics().committed_bytes, 0xE000u);
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, DecommitSizeZeroAtBaseDecommitsWholeReservation) {
  uint64_t a = Reserve(0x20000);
  ASSERT_EQ(space_.VirtualAlloc(a + 0x3000, 0x4000, kMemCommit, kPageReadWrite).error, 0u);
  ASSERT_EQ(space_.VirtualAlloc(a + 0x1F000, 0x1000, kMemCommit, kPageReadOnly).error, 0u);
  // Size 0 away from the base: STATUS_FREE_VM_NOT_AT_BASE.
  EXPECT_EQ(space_.VirtualFree(a + 0x3000, 0, kMemDecommit), kErrorInvalidAddress);
  EXPECT_EQ(space_.metrics().committed_bytes, 0x5000u);
  EXPECT_EQ(space_.VirtualFree(a, 0, kMemDecommit), 0u);
  EXPECT_EQ(space_.metrics().committed_bytes, 0u);
  EXPECT_EQ(Query(a),
            (MemoryBasicInformation{a, a, kPageReadWrite, 0x20000, kMemReserve, 0, kMemPrivate}));
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, DecommitErrors) {
  uint64_t a = Reserve(0x10000);
  uint64_t b = Reserve(0x10000);
  EXPECT_EQ(space_.VirtualFree(0x50000000, 0x1000, kMemDecommit), kErrorInvalidAddress);
  // Range beyond the reservation (into the next one): STATUS_UNABLE_TO_FREE_VM.
  EXPECT_EQ(space_.VirtualFree(a + 0xF000, 0x2000, kMemDecommit), kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualFree(b + 0xF000, 0x2000, kMemDecommit), kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualFree(0, 0, kMemDecommit), kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualFree(a, 0x1000, 0), kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualFree(a, 0, kMemFree), kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualFree(a, 0, kMemDecommit | kMemRelease), kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualFree(0x7FFFFFFF0000, 0, kMemRelease), kErrorInvalidParameter);
}

TEST_F(AddressSpaceTest, ReleaseRequiresSizeZeroAndAllocationBase) {
  uint64_t a = Reserve(0x30000);
  ASSERT_EQ(space_.VirtualAlloc(a, 0x1000, kMemCommit, kPageReadWrite).error, 0u);
  EXPECT_EQ(space_.VirtualFree(a, 1, kMemRelease), kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualFree(a, 0x30000, kMemRelease), kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualFree(a + 0x1000, 0, kMemRelease), kErrorInvalidAddress);
  EXPECT_EQ(space_.VirtualFree(a + 0x20000, 0, kMemRelease), kErrorInvalidAddress);
  EXPECT_EQ(space_.VirtualFree(0x60000000, 0, kMemRelease), kErrorInvalidAddress);
  // An address inside the base page names the base (the kernel compares page numbers).
  EXPECT_EQ(space_.VirtualFree(a + 0x10, 0, kMemRelease), 0u);
  EXPECT_EQ(Query(a).state, kMemFree);
  EXPECT_EQ(space_.metrics().reserved_bytes, 0u);
  EXPECT_EQ(space_.metrics().committed_bytes, 0u);
  EXPECT_EQ(space_.VirtualFree(a, 0, kMemRelease), kErrorInvalidAddress);  // Double release.
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, ReleaseDoesNotTouchAdjacentReservation) {
  uint64_t a = Reserve(0x10000);
  uint64_t b = Reserve(0x10000);
  ASSERT_EQ(space_.VirtualAlloc(a, 0x10000, kMemCommit, kPageReadWrite).error, 0u);
  ASSERT_EQ(space_.VirtualAlloc(b, 0x10000, kMemCommit, kPageReadWrite).error, 0u);
  // Same state and protection, different allocation: two regions.
  EXPECT_EQ(Query(a).region_size, 0x10000u);
  ASSERT_EQ(space_.VirtualFree(a, 0, kMemRelease), 0u);
  EXPECT_EQ(Query(b), (MemoryBasicInformation{b, b, kPageReadWrite, 0x10000, kMemCommit,
                                              kPageReadWrite, kMemPrivate}));
  EXPECT_EQ(Query(a), (MemoryBasicInformation{a, 0, 0, 0x10000, kMemFree, kPageNoAccess, 0}));
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, ProtectRequiresCommittedPagesAndReturnsFirstPageProtection) {
  uint64_t a = Reserve(0x10000, kPageNoAccess);
  uint32_t old = 0;
  // Wine conformance test sequence.
  EXPECT_EQ(space_.VirtualProtect(a, 0xFFFC, kPageReadOnly, &old), kErrorInvalidAddress);
  ASSERT_EQ(space_.VirtualAlloc(a, 0x1000, kMemCommit, kPageNoAccess).error, 0u);
  EXPECT_EQ(space_.VirtualProtect(a, 0xFFFC, kPageReadOnly, &old), kErrorInvalidAddress);
  EXPECT_EQ(space_.VirtualProtect(a, 0x1000, kPageReadOnly, &old), 0u);
  EXPECT_EQ(old, kPageNoAccess);
  EXPECT_EQ(space_.VirtualProtect(a, 0x1000, kPageReadWrite, &old), 0u);
  EXPECT_EQ(old, kPageReadOnly);
  EXPECT_EQ(Query(a).protect, kPageReadWrite);
  // Mixed protections: old is the first page's.
  ASSERT_EQ(space_.VirtualAlloc(a + 0x1000, 0x1000, kMemCommit, kPageExecuteRead).error, 0u);
  EXPECT_EQ(space_.VirtualProtect(a + 0x800, 0x1000, kPageReadOnly, &old), 0u);
  EXPECT_EQ(old, kPageReadWrite);
  EXPECT_EQ(Query(a).region_size, 0x2000u);
  EXPECT_EQ(Query(a).protect, kPageReadOnly);
  // Invalid protection values and NULL old-protection pointer.
  EXPECT_EQ(space_.VirtualProtect(a, 0x1000, kPageReadWrite | kPageExecuteWriteCopy, &old),
            kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualProtect(a, 0x1000, 0, &old), kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualProtect(a, 0x1000, kPageReadOnly, nullptr), kErrorNoAccess);
  // Free memory and ranges spanning reservations.
  EXPECT_EQ(space_.VirtualProtect(0x70000000, 0x1000, kPageReadOnly, &old), kErrorInvalidAddress);
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, ProtectAcrossReservationsFails) {
  uint64_t a = space_.VirtualAlloc(0, 0x10000, kMemCommit, kPageReadWrite).address;
  uint64_t b = space_.VirtualAlloc(0, 0x10000, kMemCommit, kPageReadWrite).address;
  ASSERT_EQ(b, a + 0x10000);
  uint32_t old = 0;
  EXPECT_EQ(space_.VirtualProtect(a + 0xF000, 0x2000, kPageReadOnly, &old), kErrorInvalidAddress);
  EXPECT_EQ(Query(a).protect, kPageReadWrite);
  EXPECT_EQ(Query(a).region_size, 0x10000u);
}

TEST_F(AddressSpaceTest, QueryFreeMemoryAndLimits) {
  // Empty space: from the page to the end of user space.
  EXPECT_EQ(Query(0x12345678),
            (MemoryBasicInformation{0x12345000, 0, 0, 0x7FFFFFFF0000 - 0x12345000, kMemFree,
                                    kPageNoAccess, 0}));
  uint64_t a = Reserve(0x10000);
  // Below the lowest usable address, up to the first allocation.
  EXPECT_EQ(Query(0), (MemoryBasicInformation{0, 0, 0, a, kMemFree, kPageNoAccess, 0}));
  // Highest user byte still answers; one past fails with ERROR_INVALID_PARAMETER.
  EXPECT_EQ(Query(0x7FFFFFFEFFFF).region_size, 0x1000u);
  MemoryBasicInformation info;
  uint32_t error = 0;
  EXPECT_EQ(space_.VirtualQuery(0x7FFFFFFF0000, &info, &error), 0u);
  EXPECT_EQ(error, kErrorInvalidParameter);
  EXPECT_EQ(space_.VirtualQuery(a, nullptr, &error), 0u);
  EXPECT_EQ(error, kErrorNoAccess);
  EXPECT_EQ(space_.VirtualQuery(a, &info, nullptr), kMemoryBasicInformationSize64);
}

TEST_F(AddressSpaceTest, QueryCoalescesOnlyIdenticalAttributes) {
  uint64_t a = Reserve(0x10000, kPageReadWrite);
  ASSERT_EQ(space_.VirtualAlloc(a, 0x1000, kMemCommit, kPageReadWrite).error, 0u);
  ASSERT_EQ(space_.VirtualAlloc(a + 0x2000, 0x1000, kMemCommit, kPageReadWrite).error, 0u);
  EXPECT_EQ(space_.metrics().region_count, 4u);
  // Filling the gap merges three regions into one.
  ASSERT_EQ(space_.VirtualAlloc(a + 0x1000, 0x1000, kMemCommit, kPageReadWrite).error, 0u);
  EXPECT_EQ(Query(a + 0x1000), (MemoryBasicInformation{a + 0x1000, a, kPageReadWrite, 0x2000,
                                                       kMemCommit, kPageReadWrite, kMemPrivate}));
  EXPECT_EQ(space_.metrics().region_count, 2u);
  ExpectConsistent();
}

TEST_F(AddressSpaceTest, LayoutFaithfulPlacesAtRecordedAddressOrFallsBack) {
  AddressSpaceConfig config = AddressSpaceConfig::Win64();
  config.placement = Placement::kLayoutFaithful;
  AddressSpace space(config);
  AllocOutcome a = space.VirtualAlloc(0, 0x20000, kMemReserve, kPageReadWrite, 0x7FF612340000);
  EXPECT_EQ(a.address, 0x7FF612340000u);
  // Occupied: falls back to bottom-up and counts it.
  AllocOutcome b = space.VirtualAlloc(0, 0x10000, kMemReserve, kPageReadWrite, 0x7FF612350000);
  EXPECT_EQ(b.address, kLow);
  // Unaligned recorded address: fallback.
  AllocOutcome c = space.VirtualAlloc(0, 0x10000, kMemReserve, kPageReadWrite, 0x7FF600001000);
  EXPECT_EQ(c.address, kLow + kGranule);
  EXPECT_EQ(space.metrics().placement_fallbacks, 2u);
  // Unknown (0): policy, no fallback counted.
  EXPECT_EQ(space.VirtualAlloc(0, 0x10000, kMemReserve, kPageReadWrite, 0).address,
            kLow + 2 * kGranule);
  EXPECT_EQ(space.metrics().placement_fallbacks, 2u);
  // Bottom-up mode ignores recorded addresses.
  EXPECT_EQ(space_.VirtualAlloc(0, 0x10000, kMemReserve, kPageReadWrite, 0x7FF612340000).address,
            kLow);
}

TEST_F(AddressSpaceTest, ConfigPresets) {
  EXPECT_EQ(AddressSpaceConfig::Win32_2GiB().max_address, 0x7FFEFFFFu);
  EXPECT_EQ(AddressSpaceConfig::Win32_3GiB().max_address, 0xBFFEFFFFu);
  EXPECT_EQ(AddressSpaceConfig::Win32_4GiB().max_address, 0xFFFEFFFFu);
  EXPECT_EQ(AddressSpaceConfig::Win64().max_address, 0x7FFFFFFEFFFFu);
  AddressSpace space(AddressSpaceConfig::Win32_4GiB());
  EXPECT_EQ(space.metrics().total_free, 0xFFFF0000u - 0x10000u);
  EXPECT_EQ(space.metrics().largest_free_block, 0xFFFF0000u - 0x10000u);
}

}  // namespace
}  // namespace vmreplay::sim
