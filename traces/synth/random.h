// A small deterministic random source for the synthetic generator.
//
// Guarantee: the same seed yields the same sequence on every platform and standard library. The
// <random> distributions are implementation-defined (libstdc++ and libc++ differ), so every
// distribution the generator uses is defined here, over xoshiro256** seeded with SplitMix64.
#pragma once

#include <cmath>
#include <cstdint>

namespace vmreplay::synth {

class Random {
 public:
  explicit Random(uint64_t seed) {
    for (uint64_t& s : state_) s = SplitMix(&seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  uint64_t Range(uint64_t lo, uint64_t hi) {
    return lo + (hi - lo == UINT64_MAX ? Next() : Next() % (hi - lo + 1));
  }
  bool Chance(double p) { return Unit() < p; }
  // Exponential with the given mean.
  double Exponential(double mean) { return -mean * std::log1p(-Unit()); }
  // Log-normal: exp(N(mu, sigma)) with mu = log(median); Box-Muller on two uniforms.
  double LogNormal(double median, double sigma) {
    const double u1 = 1.0 - Unit();  // (0, 1]
    const double u2 = Unit();
    const double n = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    return median * std::exp(sigma * n);
  }
  // A new generator whose sequence is independent of this one's later draws.
  Random Fork() { return Random(Next()); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix(uint64_t* x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_[4];
};

}  // namespace vmreplay::synth
