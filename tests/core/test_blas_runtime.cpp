// Choosing OpenBLAS kernels the CPU can run (cfma/core/blas_runtime.hpp).
#include <gtest/gtest.h>

#include "cfma/core/blas_runtime.hpp"

namespace cfma {
namespace {

TEST(BlasRuntime, UpgradesKernelsOlderThanTheCpu) {
  EXPECT_EQ(capable_blas_kernels("Prescott", 3), "SkylakeX");  // OpenBLAS 0.3.21 on a new Xeon
  EXPECT_EQ(capable_blas_kernels("Haswell", 3), "SkylakeX");
  EXPECT_EQ(capable_blas_kernels("Zen", 3), "SkylakeX");
  EXPECT_EQ(capable_blas_kernels("PRESCOTT", 2), "Haswell");
  EXPECT_EQ(capable_blas_kernels("Nehalem", 1), "Sandybridge");
}

TEST(BlasRuntime, KeepsKernelsAsCapableAsTheCpuAndUnknownNames) {
  EXPECT_EQ(capable_blas_kernels("SkylakeX", 3), "");
  EXPECT_EQ(capable_blas_kernels("Cooperlake", 3), "");
  EXPECT_EQ(capable_blas_kernels("Haswell", 2), "");
  EXPECT_EQ(capable_blas_kernels("SkylakeX", 2), "");  // never downgrades
  EXPECT_EQ(capable_blas_kernels("Prescott", 0), "");
  EXPECT_EQ(capable_blas_kernels("SomeFutureCore", 3), "");
  EXPECT_EQ(capable_blas_kernels("", 3), "");
}

TEST(BlasRuntime, CpuLevelIsInRange) {
  const int level = cpu_vector_level();
  EXPECT_GE(level, 0);
  EXPECT_LE(level, 3);
  // -march=native builds (the default) imply at least the level the compiler targeted.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
  EXPECT_EQ(level, 3);
#elif defined(__AVX2__)
  EXPECT_GE(level, 2);
#endif
}

}  // namespace
}  // namespace cfma
