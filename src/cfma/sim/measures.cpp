#include "cfma/sim/measures.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cfma/core/blas.hpp"

namespace cfma::sim {

double linear_cka(const Matrix& cross, const Matrix& gram_x, const Matrix& gram_y) {
  return linear_cka(cross.squaredNorm(), gram_x.norm(), gram_y.norm());
}

double linear_cka(double cross_norm2, double gram_x_norm, double gram_y_norm) {
  // (num / ||X'X||) / ||Y'Y||: the original's order of operations, in float64.
  return cross_norm2 / gram_x_norm / gram_y_norm;
}

double unbiased_hsic(const HsicTerms& t) {
  const double n = t.n;
  return (t.trace_kl + t.sum_k * t.sum_l / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * t.sum_kl) /
         (n * (n - 3));
}

HsicTerms hsic_terms(const LinearKernelSums& s) {
  return {s.n, s.cross_norm2 - s.sum_ab, s.sx_norm2 - s.sum_a, s.sy_norm2 - s.sum_b,
          s.sx_cross_sy - s.a_dot_ys - s.b_dot_xs + s.sum_ab};
}

double debiased_cka(double hsic_xy, double hsic_xx, double hsic_yy) {
  return hsic_xy / std::sqrt(hsic_xx * hsic_yy);
}

HsicTerms hsic_terms(const Matrix& k, const Vector& k_rows, const Matrix& l, const Vector& l_rows) {
  return {static_cast<double>(k.rows()), k.cwiseProduct(l).sum(), k_rows.sum(), l_rows.sum(),
          k_rows.dot(l_rows)};
}

Matrix zero_diagonal_gram(const Eigen::Ref<const Matrix>& x_t) {
  Matrix k = Matrix::Zero(x_t.cols(), x_t.cols());
  k.selfadjointView<Eigen::Lower>().rankUpdate(x_t.transpose());
  k.triangularView<Eigen::StrictlyUpper>() = k.transpose();
  k.diagonal().setZero();
  return k;
}

Whitening whitening(const Matrix& cov, double rank_tolerance) {
  const auto eig = symmetric_eigen(cov);
  const Vector& lambda = eig.values;  // ascending
  const double largest = lambda.size() ? std::max(lambda(lambda.size() - 1), 0.0) : 0.0;
  Eigen::Index first = 0;
  while (first < lambda.size() && !(lambda(first) > rank_tolerance * largest)) ++first;
  const Eigen::Index rank = lambda.size() - first;
  Whitening w;
  w.rank = rank;
  w.w = eig.vectors.rightCols(rank) *
        lambda.tail(rank).cwiseSqrt().cwiseInverse().asDiagonal();
  return w;
}

double cca_r2(const Matrix& cross, const Whitening& wx, const Whitening& wy, Eigen::Index px) {
  // Qy'Qx = Wy' Y'X Wx
  return (wy.w.transpose() * cross.transpose() * wx.w).squaredNorm() / static_cast<double>(px);
}

double cca_r2_mean(const Matrix& cross, const Whitening& wx, const Whitening& wy) {
  const auto r = std::min(wx.rank, wy.rank);
  if (r == 0) return 0.0;
  return (wy.w.transpose() * cross.transpose() * wx.w).squaredNorm() / static_cast<double>(r);
}

double lr_r2(const Matrix& cross, const Whitening& wy, double trace_x) {
  // Qy'X = Wy' Y'X
  return (wy.w.transpose() * cross.transpose()).squaredNorm() / trace_x;
}

PairCcaLr cca_lr_pair(const Matrix& cross, const Whitening& wx, const Whitening& wy, Eigen::Index px, Eigen::Index py,
                      double trace_x, double trace_y) {
  PairCcaLr p;
  const Matrix cwy = cross * wy.w;  // X'Y Wy
  p.canonical = wx.w.transpose() * cwy;
  const double m2 = p.canonical.squaredNorm();
  p.cca_xy = m2 / static_cast<double>(px);
  p.cca_yx = m2 / static_cast<double>(py);
  const auto r = std::min(wx.rank, wy.rank);
  p.cca_mean = r == 0 ? 0.0 : m2 / static_cast<double>(r);
  p.lr_xy = cwy.squaredNorm() / trace_x;
  p.lr_yx = (cross.transpose() * wx.w).squaredNorm() / trace_y;
  return p;
}

namespace {

// Singular values of m (descending) from the eigenvalues of the smaller of m'm and mm': a
// symmetric eigensolver is several times faster than an SVD at the sizes of the cross blocks.
Vector singular_values(const Matrix& m) {
  const Matrix g = m.rows() <= m.cols() ? Matrix(m * m.transpose()) : Matrix(m.transpose() * m);
  return symmetric_eigen(g, false).values.reverse().cwiseMax(0.0).cwiseSqrt();
}

}  // namespace

double procrustes_distance(const Matrix& cross, double trace_x, double trace_y) {
  if (!(trace_x > 0) || !(trace_y > 0)) return std::numeric_limits<double>::quiet_NaN();
  return 1.0 - singular_values(cross).sum() / std::sqrt(trace_x * trace_y);
}

SvdReduction svd_reduction(const Matrix& cov, double keep) {
  const auto eig = symmetric_eigen(cov);
  const Vector& lambda = eig.values;  // ascending
  double total = 0;
  for (Eigen::Index k = 0; k < lambda.size(); ++k) total += std::max(lambda(k), 0.0);
  SvdReduction r;
  if (!(total > 0)) return r;
  // Largest first, until the kept eigenvalues reach `keep` of the total.
  Eigen::Index kept = 0;
  double sum = 0;
  while (kept < lambda.size() && (kept == 0 || sum < keep * total)) {
    sum += std::max(lambda(lambda.size() - 1 - kept), 0.0);
    ++kept;
  }
  r.v = eig.vectors.rightCols(kept).rowwise().reverse();
  r.lambda = lambda.tail(kept).reverse();
  return r;
}

double svcca(const Matrix& cross, const SvdReduction& rx, const SvdReduction& ry) {
  const auto k = std::min(rx.lambda.size(), ry.lambda.size());
  if (k == 0) return std::numeric_limits<double>::quiet_NaN();
  const Matrix m = rx.lambda.cwiseSqrt().cwiseInverse().asDiagonal() * (rx.v.transpose() * cross * ry.v) *
                   ry.lambda.cwiseSqrt().cwiseInverse().asDiagonal();
  return singular_values(m).head(k).sum() / static_cast<double>(k);
}

double pwcca(const Matrix& cross, const Matrix& cov_x, const Whitening& wx, const Matrix& cov_y, const Whitening& wy) {
  const auto k = std::min(wx.rank, wy.rank);
  if (k == 0) return std::numeric_limits<double>::quiet_NaN();
  // M = Wx' X'Y Wy: its singular values are the canonical correlations; the singular vectors on
  // the smaller set's side, from the eigenvectors of M M' (or M'M), give its canonical variates
  // h = X Wx u, and <h_i, x_j> = (u_i' Wx' X'X)_j.
  return pwcca_from_canonical(wx.w.transpose() * cross * wy.w, cov_x, wx, cov_y, wy);
}

double pwcca_from_canonical(const Matrix& m, const Matrix& cov_x, const Whitening& wx, const Matrix& cov_y,
                            const Whitening& wy) {
  const auto k = std::min(wx.rank, wy.rank);
  if (k == 0) return std::numeric_limits<double>::quiet_NaN();
  const bool x_side = wx.rank <= wy.rank;
  const auto eig = symmetric_eigen(x_side ? Matrix(m * m.transpose()) : Matrix(m.transpose() * m));
  const Vector rho = eig.values.cwiseMax(0.0).cwiseSqrt();
  const Matrix projections = x_side ? Matrix((wx.w * eig.vectors).transpose() * cov_x)
                                    : Matrix((wy.w * eig.vectors).transpose() * cov_y);
  const Vector alpha = projections.cwiseAbs().rowwise().sum();
  return alpha.dot(rho) / alpha.sum();
}

Matrix centred(const Matrix& x) { return x.rowwise() - x.colwise().mean(); }

}  // namespace cfma::sim
