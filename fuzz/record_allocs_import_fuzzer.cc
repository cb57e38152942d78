// The record_allocs importer: any input either imports or fails with one line "input.log:LINE:
// ..."; what imports must encode and read back as the same events.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_support.h"
#include "replayer/importers/importer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return vmreplay::fuzz::ImportRoundTrip(
      static_cast<int>(vmreplay::importers::Format::kRecordAllocs), data, size);
}
