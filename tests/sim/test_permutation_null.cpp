// The closed-form permutation null of linear CKA's numerator against brute force: tr(K P L P')
// for every one of the 7! = 5,040 orderings of 7 rows, with rows offset from their own mean (as
// test rows centred with the train mean are) and exactly centred.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "cfma/sim/permutation_null.hpp"

namespace cfma::sim {
namespace {

// Row moments from the sums the accumulator keeps (so row_moments is exercised too).
RowMoments streamed(const Matrix& u) {
  const Vector norms = u.rowwise().squaredNorm();
  return row_moments(u.transpose() * u, u.colwise().sum().transpose(), norms.squaredNorm(), u.transpose() * norms,
                     static_cast<double>(u.rows()));
}

struct Enumerated {
  double mean = 0, sd = 0;
};

Enumerated every_permutation(const Matrix& u, const Matrix& v) {
  const Matrix k = u * u.transpose(), l = v * v.transpose();
  std::vector<Eigen::Index> perm(static_cast<std::size_t>(u.rows()));
  std::iota(perm.begin(), perm.end(), 0);
  std::vector<double> values;
  do {
    double t = 0;  // sum_ij K_ij L_p(i)p(j)
    for (Eigen::Index i = 0; i < k.rows(); ++i)
      for (Eigen::Index j = 0; j < k.cols(); ++j)
        t += k(i, j) * l(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(j)]);
    values.push_back(t);
  } while (std::next_permutation(perm.begin(), perm.end()));
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  double squares = 0;
  for (const double t : values) squares += (t - mean) * (t - mean);
  return {mean, std::sqrt(squares / static_cast<double>(values.size()))};
}

TEST(PermutationNull, EqualsTheMomentsOverEveryPermutationOfSevenRows) {
  std::srand(5);
  for (const double offset : {0.0, 0.8}) {
    Matrix x = Matrix::Random(7, 3), y = Matrix::Random(7, 2);
    y.col(0) += 0.7 * x.col(1);  // dependent sets: the observed value is not the null's
    x = x.rowwise() - x.colwise().mean();
    y = y.rowwise() - y.colwise().mean();
    if (offset > 0) {  // rows offset from their own mean
      x.rowwise() += Eigen::RowVector3d(offset, -0.3, 0.5);
      y.rowwise() += Eigen::RowVector2d(-0.6, offset);
    }
    const auto want = every_permutation(x, y);
    const auto got = permutation_null(streamed(x), streamed(y));
    EXPECT_NEAR(got.mean, want.mean, 1e-10 * want.mean) << offset;
    EXPECT_NEAR(got.sd, want.sd, 1e-9 * want.sd) << offset;
    EXPECT_GT(want.sd, 0.05 * want.mean) << offset;
    // Symmetric in the two sets (which one is permuted does not matter).
    EXPECT_NEAR(permutation_null(streamed(y), streamed(x)).sd, got.sd, 1e-12 * got.sd);
  }
}

TEST(PermutationNull, UndefinedBelowFourRows) {
  const Matrix x = Matrix::Random(3, 2);
  EXPECT_TRUE(std::isnan(permutation_null(streamed(x), streamed(x)).sd));
}

}  // namespace
}  // namespace cfma::sim
