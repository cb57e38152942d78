#include "simulator/address_space_config.h"

#include <gtest/gtest.h>

namespace vmreplay::sim {
namespace {

TEST(AddressSpaceConfigTest, PresetsAreValid) {
  for (const AddressSpaceConfig& c :
       {AddressSpaceConfig::Win32_2GiB(), AddressSpaceConfig::Win32_3GiB(),
        AddressSpaceConfig::Win32_4GiB(), AddressSpaceConfig::Win64(),
        AddressSpaceConfig::Linux64()}) {
    EXPECT_EQ(c.Validate(), "");
  }
  EXPECT_EQ(AddressSpaceConfig::Linux64().allocation_granularity, 4096u);
}

TEST(AddressSpaceConfigTest, RejectsBadShapes) {
  AddressSpaceConfig c;
  c.page_size = 3000;
  EXPECT_NE(c.Validate(), "");
  c = AddressSpaceConfig{};
  c.allocation_granularity = 2048;
  EXPECT_NE(c.Validate(), "");
  c = AddressSpaceConfig{};
  c.max_address = 0x7FFFFFFEF000;
  EXPECT_NE(c.Validate(), "");
  c = AddressSpaceConfig{};
  c.min_address = 0x11000;
  EXPECT_NE(c.Validate(), "");
}

}  // namespace
}  // namespace vmreplay::sim
