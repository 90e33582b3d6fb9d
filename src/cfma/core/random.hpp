#pragma once
// splitmix64 (Steele, Lea & Flood 2014; Vigna's reference constants): a stateless 64-bit mixer.
// cfma derives every counter-based random value from it (noise features, bootstrap weights,
// minibatch permutations), so a value depends only on its (seed, index...) and not on the
// rank count or the order of evaluation. Changing it changes recorded reference values.
#include <cstdint>

namespace cfma {

inline constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace cfma
