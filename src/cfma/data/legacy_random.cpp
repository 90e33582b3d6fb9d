#include "cfma/data/legacy_random.hpp"

#include <numeric>
#include <stdexcept>
#include <utility>

namespace cfma::data {

std::uint64_t LegacyRandomState::random_interval(std::uint64_t max) {
  if (max == 0) return 0;
  std::uint64_t mask = max;
  for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
  std::uint64_t value = 0;
  if (max <= 0xffffffffULL) {
    while ((value = (next_uint32() & mask)) > max) {
    }
  } else {
    while ((value = (next_uint64() & mask)) > max) {
    }
  }
  return value;
}

std::vector<std::int64_t> LegacyRandomState::permutation(std::int64_t n) {
  if (n < 0) throw std::invalid_argument("permutation: negative length");
  std::vector<std::int64_t> a(static_cast<std::size_t>(n));
  std::iota(a.begin(), a.end(), std::int64_t{0});
  for (std::int64_t i = n - 1; i >= 1; --i) {
    const auto j = static_cast<std::int64_t>(random_interval(static_cast<std::uint64_t>(i)));
    std::swap(a[static_cast<std::size_t>(i)], a[static_cast<std::size_t>(j)]);
  }
  return a;
}

std::vector<std::int64_t> LegacyRandomState::choice_without_replacement(std::int64_t n,
                                                                        std::int64_t k) {
  if (k < 0 || k > n) throw std::invalid_argument("choice: sample larger than population");
  auto p = permutation(n);
  p.resize(static_cast<std::size_t>(k));
  return p;
}

}  // namespace cfma::data
