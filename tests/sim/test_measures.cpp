// Unit tests of the similarity formulas (cfma/sim/measures.hpp) and the accumulator.
#include <gtest/gtest.h>

#include <array>

#include <cmath>
#include <fstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"
#include "cfma/core/error.hpp"
#include "cfma/sim/accumulator.hpp"
#include "cfma/sim/config.hpp"
#include "cfma/sim/measures.hpp"
#include "tests/test_paths.hpp"

namespace cfma::sim {
namespace {

Matrix random_matrix(Eigen::Index n, Eigen::Index p, unsigned seed) {
  std::srand(seed);
  return Matrix::Random(n, p);
}

double cka_of(const Matrix& x_raw, const Matrix& y_raw) {
  const Matrix x = centred(x_raw), y = centred(y_raw);
  return linear_cka(x.transpose() * y, x.transpose() * x, y.transpose() * y);
}

// Unbiased HSIC written directly with n x n kernels (Song et al. 2012, eq. 5).
double dense_unbiased_hsic(const Matrix& x, const Matrix& y) {
  const double n = static_cast<double>(x.rows());
  Matrix k = x * x.transpose(), l = y * y.transpose();
  k.diagonal().setZero();
  l.diagonal().setZero();
  const Vector one = Vector::Ones(x.rows());
  return ((k * l).trace() + one.dot(k * one) * one.dot(l * one) / ((n - 1) * (n - 2)) -
          2.0 / (n - 2) * one.dot(k * l * one)) / (n * (n - 3));
}

LinearKernelSums direct_sums(const Matrix& x, const Matrix& y) {
  const Vector a = x.rowwise().squaredNorm(), b = y.rowwise().squaredNorm();
  const Vector sx = x.colwise().sum().transpose(), sy = y.colwise().sum().transpose();
  LinearKernelSums s;
  s.n = static_cast<double>(x.rows());
  s.cross_norm2 = (x.transpose() * y).squaredNorm();
  s.sum_ab = a.dot(b);
  s.sum_a = a.sum();
  s.sum_b = b.sum();
  s.sx_norm2 = sx.squaredNorm();
  s.sy_norm2 = sy.squaredNorm();
  s.sx_cross_sy = sx.dot(x.transpose() * y * sy);
  s.a_dot_ys = a.dot(y * sy);
  s.b_dot_xs = b.dot(x * sx);
  return s;
}

Matrix thin_q(const Matrix& x) {
  return x.householderQr().householderQ() * Matrix::Identity(x.rows(), x.cols());
}

TEST(LinearCka, SelfSimilarityIsOne) {
  const Matrix x = random_matrix(50, 7, 1);
  EXPECT_NEAR(cka_of(x, x), 1.0, 1e-14);
}

TEST(LinearCka, InvariantToOrthogonalTransformAndIsotropicScaling) {
  const Matrix x = random_matrix(60, 5, 2), y = random_matrix(60, 8, 3);
  const Matrix q = thin_q(random_matrix(8, 8, 4));  // 8 x 8 orthogonal
  const double base = cka_of(x, y);
  EXPECT_GT(base, 0.01);
  EXPECT_NEAR(cka_of(x, y * q), base, 1e-12);
  EXPECT_NEAR(cka_of(x * 3.5, y * q * 0.01), base, 1e-12);
}

TEST(LinearCka, ChangesUnderGeneralLinearMap) {
  const Matrix x = random_matrix(60, 5, 5), y = random_matrix(60, 8, 6);
  Matrix a = Matrix::Identity(8, 8);
  a(0, 0) = 10.0;
  a(1, 0) = 3.0;
  EXPECT_GT(std::abs(cka_of(x, y * a) - cka_of(x, y)), 1e-3);
}

TEST(LinearCka, ClosedFormOnOrthonormalColumns) {
  // Centred orthonormal columns u_1..u_6: CKA(U[:, :k], U[:, :m]) = sqrt(k / m) for k <= m,
  // and 0 for disjoint column sets.
  const Matrix u = thin_q(centred(random_matrix(40, 6, 7)));
  EXPECT_NEAR(cka_of(u.leftCols(2), u.leftCols(5)), std::sqrt(2.0 / 5.0), 1e-12);
  EXPECT_NEAR(cka_of(u.leftCols(1), u.leftCols(2)), 1.0 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(cka_of(u.leftCols(3), u.rightCols(3)), 0.0, 1e-12);
}

TEST(DebiasedCka, FeatureSpaceSumsMatchDenseKernels) {
  const Matrix x = centred(random_matrix(30, 4, 8)), y = centred(random_matrix(30, 6, 9));
  EXPECT_NEAR(unbiased_hsic(hsic_terms(direct_sums(x, y))), dense_unbiased_hsic(x, y), 1e-12);
  // Not centred (the test split is centred by the TRAIN mean): the general sums still match.
  const Matrix xs = x.rowwise() + Eigen::RowVectorXd::Constant(4, 0.7);
  const Matrix ys = y.rowwise() - Eigen::RowVectorXd::Constant(6, 1.3);
  EXPECT_NEAR(unbiased_hsic(hsic_terms(direct_sums(xs, ys))), dense_unbiased_hsic(xs, ys), 1e-11);
  // ... and the unbiased estimator is shift invariant.
  EXPECT_NEAR(dense_unbiased_hsic(xs, ys), dense_unbiased_hsic(x, y), 1e-11);
}

TEST(DebiasedCka, GramSpaceTermsMatchDense) {
  const Matrix x = random_matrix(20, 3, 10), y = random_matrix(20, 5, 11);
  const Matrix k = zero_diagonal_gram(x.transpose()), l = zero_diagonal_gram(y.transpose());
  const Vector kr = k.rowwise().sum(), lr = l.rowwise().sum();
  EXPECT_NEAR(unbiased_hsic(hsic_terms(k, kr, l, lr)), dense_unbiased_hsic(x, y), 1e-12);
}

TEST(CcaAndRegression, MatchQrForm) {
  const Matrix x = centred(random_matrix(80, 5, 12));
  Matrix y = centred(random_matrix(80, 7, 13));
  y.col(0) += 2.0 * x.col(1);
  const Matrix qx = thin_q(x), qy = thin_q(y);
  const auto wx = whitening(x.transpose() * x, 1e-10), wy = whitening(y.transpose() * y, 1e-10);
  const Matrix cross = x.transpose() * y;
  EXPECT_EQ(wx.rank, 5);
  EXPECT_NEAR(cca_r2(cross, wx, wy, 5), (qy.transpose() * qx).squaredNorm() / 5.0, 1e-12);
  EXPECT_NEAR(cca_r2_mean(cross, wx, wy), (qy.transpose() * qx).squaredNorm() / 5.0, 1e-12);
  EXPECT_NEAR(lr_r2(cross, wy, x.squaredNorm()), (qy.transpose() * x).squaredNorm() / x.squaredNorm(), 1e-12);
  EXPECT_NEAR(cca_r2(cross.transpose(), wy, wx, 7), (qx.transpose() * qy).squaredNorm() / 7.0, 1e-12);
  // The pair form the job uses: the same values from shared products, both directions.
  const auto pair = cca_lr_pair(cross, wx, wy, 5, 7, x.squaredNorm(), y.squaredNorm());
  EXPECT_NEAR(pair.cca_xy, cca_r2(cross, wx, wy, 5), 1e-12);
  EXPECT_NEAR(pair.cca_yx, cca_r2(cross.transpose(), wy, wx, 7), 1e-12);
  EXPECT_NEAR(pair.cca_mean, cca_r2_mean(cross.transpose(), wy, wx), 1e-12);
  EXPECT_NEAR(pair.lr_xy, lr_r2(cross, wy, x.squaredNorm()), 1e-12);
  EXPECT_NEAR(pair.lr_yx, lr_r2(cross.transpose(), wx, y.squaredNorm()), 1e-12);
  EXPECT_NEAR(pair.lr_yx, (qx.transpose() * y).squaredNorm() / y.squaredNorm(), 1e-12);
  EXPECT_NEAR(pwcca_from_canonical(pair.canonical, x.transpose() * x, wx, y.transpose() * y, wy),
              pwcca(cross, x.transpose() * x, wx, y.transpose() * y, wy), 1e-12);
}

TEST(CcaAndRegression, RankDeficientSetUsesItsRank) {
  Matrix x = centred(random_matrix(50, 4, 14));
  x.col(3) = x.col(0) - 2.0 * x.col(1);  // rank 3
  const auto w = whitening(x.transpose() * x, 1e-10);
  EXPECT_EQ(w.rank, 3);
  // Y = X: every canonical correlation is 1, LR explains everything.
  const Matrix cross = x.transpose() * x;
  EXPECT_NEAR(cca_r2_mean(cross, w, w), 1.0, 1e-10);
  EXPECT_NEAR(cca_r2(cross, w, w, 4), 0.75, 1e-10);  // the paper's /p_x
  EXPECT_NEAR(lr_r2(cross, w, x.squaredNorm()), 1.0, 1e-10);
}

// The X (25 x 3) and Y (25 x 4) of the numpy references (tests/data/README.md), centred.
std::pair<Matrix, Matrix> numpy_reference_sets() {
  const Eigen::Index n = 25;
  Matrix x(n, 3), y(n, 4);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < 3; ++j) x(i, j) = std::sin(1.0 + static_cast<double>(i * (j + 1)) * 0.37);
    const Eigen::Index pick[4] = {0, 1, 2, 0};
    for (Eigen::Index k = 0; k < 4; ++k)
      y(i, k) = std::cos(0.5 + static_cast<double>(i) * 0.23 * static_cast<double>(k + 2)) + 0.5 * x(i, pick[k]);
  }
  return {centred(x), centred(y)};
}

TEST(Measures, AgreeWithNumpyReference) {
  std::ifstream in(test::source_dir() / "tests/data/sim_numpy_reference.json");
  ASSERT_TRUE(in.good());
  const auto ref = nlohmann::json::parse(in);
  const auto [x, y] = numpy_reference_sets();
  const Matrix cross = x.transpose() * y;
  const auto wx = whitening(x.transpose() * x, 1e-12), wy = whitening(y.transpose() * y, 1e-12);
  EXPECT_NEAR(linear_cka(cross, x.transpose() * x, y.transpose() * y), ref["linear_cka"].get<double>(), 1e-12);
  const auto h = [](const Matrix& a, const Matrix& b) { return unbiased_hsic(hsic_terms(direct_sums(a, b))); };
  EXPECT_NEAR(debiased_cka(h(x, y), h(x, x), h(y, y)), ref["debiased_cka"].get<double>(), 1e-12);
  EXPECT_NEAR(cca_r2(cross, wx, wy, 3), ref["cca_r2_xy"].get<double>(), 1e-10);
  EXPECT_NEAR(cca_r2(cross.transpose(), wy, wx, 4), ref["cca_r2_yx"].get<double>(), 1e-10);
  EXPECT_NEAR(lr_r2(cross, wy, x.squaredNorm()), ref["lr_r2_xy"].get<double>(), 1e-10);
  EXPECT_NEAR(lr_r2(cross.transpose(), wx, y.squaredNorm()), ref["lr_r2_yx"].get<double>(), 1e-10);
}

// Procrustes, SVCCA and PWCCA from the covariance blocks, against dense numpy on the same
// constructed data (tests/data/sim_measures_numpy.json; recipe in tests/data/README.md).
TEST(Measures, ProcrustesSvccaPwccaAgreeWithNumpyReference) {
  std::ifstream in(test::source_dir() / "tests/data/sim_measures_numpy.json");
  ASSERT_TRUE(in.good());
  const auto ref = nlohmann::json::parse(in);
  const auto [x, y] = numpy_reference_sets();
  const Matrix sxx = x.transpose() * x, syy = y.transpose() * y, cross = x.transpose() * y;
  EXPECT_NEAR(procrustes_distance(cross, sxx.trace(), syy.trace()), ref["procrustes"].get<double>(), 1e-12);
  EXPECT_NEAR(procrustes_distance(cross.transpose(), syy.trace(), sxx.trace()), ref["procrustes"].get<double>(), 1e-12);
  const auto r99x = svd_reduction(sxx, 0.99), r99y = svd_reduction(syy, 0.99);
  EXPECT_EQ(r99x.lambda.size(), 3);
  EXPECT_NEAR(svcca(cross, r99x, r99y), ref["svcca_99"].get<double>(), 1e-12);
  const auto r70x = svd_reduction(sxx, 0.7), r70y = svd_reduction(syy, 0.7);
  EXPECT_EQ(r70x.lambda.size(), 2);  // 38 % + 34 % of X's variance
  EXPECT_EQ(r70y.lambda.size(), 3);
  EXPECT_GT(r70x.lambda(0), r70x.lambda(1));  // largest first
  EXPECT_NEAR(svcca(cross, r70x, r70y), ref["svcca_70"].get<double>(), 1e-12);
  EXPECT_NEAR(svcca(cross.transpose(), r70y, r70x), ref["svcca_70"].get<double>(), 1e-12);
  const auto wx = whitening(sxx, 1e-12), wy = whitening(syy, 1e-12);
  EXPECT_NEAR(pwcca(cross, sxx, wx, syy, wy), ref["pwcca"].get<double>(), 1e-12);
  EXPECT_NEAR(pwcca(cross.transpose(), syy, wy, sxx, wx), ref["pwcca"].get<double>(), 1e-12);  // X is still the smaller set
}

TEST(Measures, ProcrustesSvccaPwccaInvariancesAndOneOnItself) {
  const Matrix x = centred(random_matrix(60, 5, 21));
  Matrix y = centred(random_matrix(60, 4, 22));
  y.col(0) += 2.0 * x.col(1);
  // y2 = 3.5 * y Q with Q orthogonal.
  const Eigen::HouseholderQR<Matrix> qr(random_matrix(4, 4, 23));
  const Matrix q = qr.householderQ();
  const Matrix y2 = 3.5 * y * q;
  auto all = [](const Matrix& a, const Matrix& b) {
    const Matrix saa = a.transpose() * a, sbb = b.transpose() * b, c = a.transpose() * b;
    const auto wa = whitening(saa, 1e-12), wb = whitening(sbb, 1e-12);
    return std::array<double, 3>{procrustes_distance(c, saa.trace(), sbb.trace()),
                                 svcca(c, svd_reduction(saa, 0.99), svd_reduction(sbb, 0.99)), pwcca(c, saa, wa, sbb, wb)};
  };
  const auto base = all(x, y), moved = all(x, y2), self = all(x, x);
  // Procrustes and SVCCA: invariant to an orthogonal transform and an isotropic scale of a set.
  for (int k = 0; k < 2; ++k) EXPECT_NEAR(base[static_cast<std::size_t>(k)], moved[static_cast<std::size_t>(k)], 1e-10) << k;
  // PWCCA weights by the smaller set's own columns (Y here: rank 4 < 5), so it is invariant to
  // scaling either set and to rotating the larger one, but not to rotating the smaller one
  // (Kornblith et al. 2019, Table 1).
  const Eigen::HouseholderQR<Matrix> qr5(random_matrix(5, 5, 24));
  const Matrix q5 = qr5.householderQ();
  EXPECT_NEAR(all(2.0 * x * q5, 3.5 * y)[2], base[2], 1e-10);
  EXPECT_GT(std::abs(moved[2] - base[2]), 1e-3);
  EXPECT_NEAR(self[0], 0.0, 1e-12);  // Procrustes distance of a set to itself
  EXPECT_NEAR(self[1], 1.0, 1e-10);  // every canonical correlation 1
  EXPECT_NEAR(self[2], 1.0, 1e-10);
  EXPECT_GT(base[0], 0.1);  // not vacuous: unrelated columns are far apart
  EXPECT_LT(base[1], 0.9);
}

TEST(Accumulator, ChunkedSumsEqualWholeMatrixSums) {
  const Matrix x = random_matrix(37, 3, 15), y = random_matrix(37, 5, 16), z = random_matrix(37, 2, 17);
  AccumulatorPlan plan{{3, 5, 2}, {true, true, true}, true, false, 0, false};
  Accumulator acc(plan);
  for (Eigen::Index begin = 0; begin < 37; begin += 10) {
    const Eigen::Index rows = std::min<Eigen::Index>(10, 37 - begin);
    Matrix stacked(acc.stacked_rows(), rows);
    stacked << x.middleRows(begin, rows).transpose(), y.middleRows(begin, rows).transpose(),
        z.middleRows(begin, rows).transpose();
    acc.add_rows(stacked);
  }
  EXPECT_EQ(acc.rows(), 37.0);
  EXPECT_LT((acc.gram(1) - y.transpose() * y).norm(), 1e-12);
  EXPECT_LT((acc.cross(0, 2) - x.transpose() * z).norm(), 1e-12);
  EXPECT_LT((acc.cross(2, 1) - z.transpose() * y).norm(), 1e-12);
  EXPECT_LT((acc.column_sums(1) - y.colwise().sum().transpose()).norm(), 1e-12);
  // The in-place norms the linear CKA uses (lower triangle only is stored for the Grams).
  EXPECT_NEAR(acc.gram_norm(1), (y.transpose() * y).norm(), 1e-12);
  EXPECT_NEAR(acc.cross_squared_norm(2, 1), (z.transpose() * y).squaredNorm(), 1e-12);
  EXPECT_NEAR(acc.cross_squared_norm(0, 2), (x.transpose() * z).squaredNorm(), 1e-12);
  EXPECT_NEAR(acc.cross_squared_norm(1, 1), (y.transpose() * y).squaredNorm(), 1e-10);
  EXPECT_NEAR(unbiased_hsic(hsic_terms(acc.kernel_sums(0, 1))), dense_unbiased_hsic(x, y), 1e-12);
  EXPECT_NEAR(unbiased_hsic(hsic_terms(acc.kernel_sums(2, 2))), dense_unbiased_hsic(z, z), 1e-12);
}

TEST(Accumulator, MinibatchHsicIsTheSumOverMinibatches) {
  const Matrix x = random_matrix(24, 3, 18), y = random_matrix(24, 40, 19);
  AccumulatorPlan plan{{3, 40}, {true, false}, false, true, 3, false, 5};
  Accumulator acc(plan);
  double expected = 0;
  for (int m = 0; m < 2; ++m) {
    const Matrix xm = x.middleRows(12 * m, 12), ym = y.middleRows(12 * m, 12);
    acc.add_minibatch(m, {zero_diagonal_gram(xm.transpose()), zero_diagonal_gram(ym.transpose())});
    expected += dense_unbiased_hsic(xm, ym);
  }
  EXPECT_NEAR(acc.minibatch_hsic(0, 1), expected, 1e-12);
  EXPECT_NEAR(acc.minibatch_hsic(1, 0), expected, 1e-12);
  double permuted = 0;
  for (int m = 0; m < 2; ++m) {
    const auto p = minibatch_permutation(5, m, 2, 12);
    Matrix ym(12, 40);
    for (Eigen::Index r = 0; r < 12; ++r) ym.row(r) = y.row(12 * m + p[static_cast<std::size_t>(r)]);
    permuted += dense_unbiased_hsic(x.middleRows(12 * m, 12), ym);
  }
  EXPECT_NEAR(acc.permuted_minibatch_hsic(2, 0, 1), permuted, 1e-12);
}

TEST(Accumulator, WeightedRowsEqualRepeatedRows) {
  const Matrix x = random_matrix(6, 2, 20), y = random_matrix(6, 3, 21);
  const std::vector<double> w = {0, 2, 1, 3, 0, 1};
  Matrix xr(7, 2), yr(7, 3);
  Eigen::Index k = 0;
  for (Eigen::Index r = 0; r < 6; ++r)
    for (int c = 0; c < static_cast<int>(w[static_cast<std::size_t>(r)]); ++c, ++k) {
      xr.row(k) = x.row(r);
      yr.row(k) = y.row(r);
    }
  AccumulatorPlan plan{{2, 3}, {true, true}, false, false, 0, false};
  Accumulator acc(plan);
  Matrix stacked(acc.stacked_rows(), 6);
  stacked << x.transpose(), y.transpose();
  acc.add_rows(stacked, w.data());
  EXPECT_EQ(acc.rows(), 7.0);
  EXPECT_LT((acc.cross(0, 1) - xr.transpose() * yr).norm(), 1e-12);
  EXPECT_LT((acc.gram(0) - xr.transpose() * xr).norm(), 1e-12);
}

TEST(Accumulator, StackedRowsSkipMinibatchPathSets) {
  // Sets 0 and 2 take the feature-space path, set 1 (wide) the minibatch path: the stacked chunk
  // holds only sets 0 and 2, and their sums are those of the whole matrices.
  const Matrix x = random_matrix(9, 2, 22), z = random_matrix(9, 4, 23);
  AccumulatorPlan plan{{2, 50, 4}, {true, false, true}, true, false, 0, false};
  Accumulator acc(plan);
  ASSERT_EQ(acc.stacked_rows(), 6);
  EXPECT_EQ(acc.offset(0), 0);
  EXPECT_EQ(acc.offset(1), -1);
  EXPECT_EQ(acc.offset(2), 2);
  Matrix stacked(6, 9);
  stacked << x.transpose(), z.transpose();
  EXPECT_THROW(acc.add_rows(stacked.topRows(5)), std::invalid_argument);
  acc.add_rows(stacked);
  EXPECT_LT((acc.cross(2, 0) - z.transpose() * x).norm(), 1e-12);
  EXPECT_LT((acc.gram(2) - z.transpose() * z).norm(), 1e-12);
  EXPECT_LT((acc.column_sums(2) - z.colwise().sum().transpose()).norm(), 1e-12);
  EXPECT_NEAR(unbiased_hsic(hsic_terms(acc.kernel_sums(0, 2))), dense_unbiased_hsic(x, z), 1e-12);
}

TEST(Config, DefaultsAndErrors) {
  const auto c = parse_similarity_config(ConfigDoc::from_string("[similarity]\nchunk_rows = 64\n"));
  EXPECT_EQ(c.chunk_rows, 64);
  EXPECT_EQ(c.measures.size(), 4u);
  EXPECT_EQ(to_json(c)["max_feature_space_dim"], 4096);
  EXPECT_THROW(parse_similarity_config(ConfigDoc::from_string("[similarity]\nmeasures = [\"cka\"]\n")), ConfigError);
  EXPECT_THROW(parse_similarity_config(ConfigDoc::from_string("[similarity]\nsplits = [\"val\"]\n")), ConfigError);
  EXPECT_THROW(parse_similarity_config(ConfigDoc::from_string("[similarity]\npermutations = 10\n")), ConfigError);
  EXPECT_THROW(parse_similarity_config(ConfigDoc::from_string("[similarity]\nminibatch_size = 2\n")), ConfigError);
}

}  // namespace
}  // namespace cfma::sim
