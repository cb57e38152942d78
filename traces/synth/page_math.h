// Page and allocation-granularity rounding of the simulated Win64 process.
#pragma once

#include <cstdint>

namespace vmreplay::synth {

inline constexpr uint64_t kPage = 4096;
inline constexpr uint64_t kGranule = 64 * 1024;
inline uint64_t PageUp(uint64_t v) { return (v + kPage - 1) / kPage * kPage; }
inline uint64_t GranuleUp(uint64_t v) { return (v + kGranule - 1) / kGranule * kGranule; }

}  // namespace vmreplay::synth
