// Binary reader, strict: any bytes either read as a trace or fail with one line naming the
// file; a trace that reads must read back the same once written again (compressed and not).
// Frame checksums are fixed up first, so mutations reach the chunk decoder instead of all
// failing at the checksum (trace_salvage_fuzzer takes the bytes as they are).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_support.h"

namespace vmreplay::fuzz {
namespace {

int Run(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  FixFrameChecksums(&bytes);
  MemFile in(bytes);
  Trace trace;
  if (!ReadTrace(in.path(), &trace).ok()) return 0;
  RequireRoundTrip(trace, /*compress=*/false, "read -> write -> read");
  RequireRoundTrip(trace, /*compress=*/true, "read -> write (zstd) -> read");
  return 0;
}

}  // namespace
}  // namespace vmreplay::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return vmreplay::fuzz::Run(data, size);
}
