// splitmix64 against Vigna's reference generator (splitmix64.c): seeded with 0, its state after
// k calls is k * 0x9e3779b97f4a7c15 and its k-th output is splitmix64 of the previous state.
#include <gtest/gtest.h>

#include "cfma/core/random.hpp"

namespace {

TEST(Splitmix64, ReferenceSequenceFromSeedZero) {
  static_assert(cfma::splitmix64(0) == 0xe220a8397b1dcdafULL);  // usable in constant expressions
  EXPECT_EQ(cfma::splitmix64(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(cfma::splitmix64(0x9e3779b97f4a7c15ULL), 0x6e789e6aa1b965f4ULL);
  // Not vacuous: neighbouring inputs give unrelated outputs.
  EXPECT_NE(cfma::splitmix64(1), cfma::splitmix64(0));
  EXPECT_EQ(cfma::splitmix64(1), 0x910a2dec89025cc1ULL);
}

}  // namespace
