#include "simulator/address_space_config.h"

namespace vmreplay::sim {
namespace {

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

AddressSpaceConfig Windows32(uint64_t max_address) {
  AddressSpaceConfig config;
  config.max_address = max_address;
  config.physical_memory = 4ull << 30;
  return config;
}

}  // namespace

AddressSpaceConfig AddressSpaceConfig::Win32_2GiB() { return Windows32(0x7FFEFFFF); }
AddressSpaceConfig AddressSpaceConfig::Win32_3GiB() { return Windows32(0xBFFEFFFF); }
AddressSpaceConfig AddressSpaceConfig::Win32_4GiB() { return Windows32(0xFFFEFFFF); }
AddressSpaceConfig AddressSpaceConfig::Win64() { return AddressSpaceConfig{}; }

AddressSpaceConfig AddressSpaceConfig::Linux64() {
  AddressSpaceConfig config;
  config.allocation_granularity = 4096;
  config.max_address = 0x7FFFFFFFEFFF;
  return config;
}

std::string AddressSpaceConfig::Validate() const {
  if (!IsPowerOfTwo(page_size)) return "page_size must be a power of two";
  if (!IsPowerOfTwo(allocation_granularity) || allocation_granularity < page_size) {
    return "allocation_granularity must be a power of two >= page_size";
  }
  if (min_address % allocation_granularity != 0) {
    return "min_address must be a multiple of allocation_granularity";
  }
  if (max_address == UINT64_MAX || (max_address + 1) % page_size != 0) {
    return "max_address + 1 must be page aligned and representable";
  }
  if (max_address < min_address) return "max_address must be >= min_address";
  return "";
}

}  // namespace vmreplay::sim
