#pragma once
// numpy's legacy RandomState (np.random.seed / permutation / choice), bit-exact, so the
// paper's seeded train/test split can be regenerated (reference-spec section 10):
//   - seed(s) with an integer is MT19937 init_genrand(s), i.e. std::mt19937(s);
//   - permutation(n) = arange(n) shuffled by Fisher-Yates, for i = n-1 .. 1:
//     j = random_interval(i), swap(a[i], a[j]);
//   - random_interval(max) draws 32-bit outputs (64-bit ones, hi word first, when
//     max > 2^32-1), masks them with the smallest all-ones mask >= max, rejects values > max;
//   - choice(n, k, replace=False) = permutation(n)[:k].
// Checked against numpy 1.24 in tests/data/test_selection.cpp.
#include <cstdint>
#include <random>
#include <vector>

namespace cfma::data {

class LegacyRandomState {
 public:
  explicit LegacyRandomState(std::uint32_t seed) : mt_(seed) {}
  std::uint32_t next_uint32() { return static_cast<std::uint32_t>(mt_()); }
  std::uint64_t next_uint64() {
    const std::uint64_t hi = next_uint32();
    return (hi << 32) | next_uint32();
  }
  // A uniform integer in [0, max] by masked rejection (numpy's random_interval).
  std::uint64_t random_interval(std::uint64_t max);
  std::vector<std::int64_t> permutation(std::int64_t n);
  std::vector<std::int64_t> choice_without_replacement(std::int64_t n, std::int64_t k);

 private:
  std::mt19937 mt_;
};

}  // namespace cfma::data
