#include "simulator/protection.h"

#include <gtest/gtest.h>

#include "simulator/posix_constants.h"
#include "simulator/win32_constants.h"

namespace vmreplay::sim {
namespace {

using namespace vmreplay::win32;  // NOLINT: constants only.

TEST(ProtectionTest, ValidPrivateProtections) {
  for (uint32_t p : {kPageNoAccess, kPageReadOnly, kPageReadWrite, kPageExecute, kPageExecuteRead,
                     kPageExecuteReadWrite}) {
    EXPECT_TRUE(IsValidPrivateProtection(p)) << p;
  }
  EXPECT_TRUE(IsValidPrivateProtection(kPageReadWrite | kPageGuard));
  EXPECT_TRUE(IsValidPrivateProtection(kPageReadWrite | kPageNoCache));
  EXPECT_TRUE(IsValidPrivateProtection(kPageReadOnly | kPageWriteCombine));
}

TEST(ProtectionTest, InvalidPrivateProtections) {
  for (uint32_t p : {0u, kPageWriteCopy, kPageExecuteWriteCopy, kPageReadOnly | kPageReadWrite,
                     kPageNoAccess | kPageGuard, kPageReadWrite | kPageGuard | kPageNoCache,
                     kPageReadWrite | kPageNoCache | kPageWriteCombine, kPageGuard, 0x800u | 4u}) {
    EXPECT_FALSE(IsValidPrivateProtection(p)) << p;
  }
}

TEST(ProtectionTest, FromPosix) {
  using namespace vmreplay::linux_abi;  // NOLINT
  EXPECT_EQ(ProtectionFromPosix(kProtNone), kPageNoAccess);
  EXPECT_EQ(ProtectionFromPosix(kProtRead), kPageReadOnly);
  EXPECT_EQ(ProtectionFromPosix(kProtWrite), kPageReadWrite);
  EXPECT_EQ(ProtectionFromPosix(kProtRead | kProtWrite), kPageReadWrite);
  EXPECT_EQ(ProtectionFromPosix(kProtExec), kPageExecute);
  EXPECT_EQ(ProtectionFromPosix(kProtRead | kProtExec), kPageExecuteRead);
  EXPECT_EQ(ProtectionFromPosix(kProtRead | kProtWrite | kProtExec), kPageExecuteReadWrite);
}

#ifdef __linux__
}  // namespace
}  // namespace vmreplay::sim
#include <sys/mman.h>
namespace vmreplay::sim {
namespace {
TEST(ProtectionTest, LinuxConstantsMatchHostHeaders) {
  using namespace vmreplay::linux_abi;  // NOLINT
  EXPECT_EQ(kProtRead, PROT_READ);
  EXPECT_EQ(kProtWrite, PROT_WRITE);
  EXPECT_EQ(kProtExec, PROT_EXEC);
  EXPECT_EQ(kMapShared, MAP_SHARED);
  EXPECT_EQ(kMapPrivate, MAP_PRIVATE);
  EXPECT_EQ(kMapFixed, MAP_FIXED);
  EXPECT_EQ(kMapAnonymous, MAP_ANONYMOUS);
  EXPECT_EQ(kMapNoReserve, MAP_NORESERVE);
  EXPECT_EQ(kMadvDontNeed, MADV_DONTNEED);
  EXPECT_EQ(kMadvFree, MADV_FREE);
  EXPECT_EQ(kMremapMayMove, MREMAP_MAYMOVE);
  EXPECT_EQ(kMremapFixed, MREMAP_FIXED);
}
#endif

}  // namespace
}  // namespace vmreplay::sim
