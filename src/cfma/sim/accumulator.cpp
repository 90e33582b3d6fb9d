#include "cfma/sim/accumulator.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "cfma/core/random.hpp"

namespace cfma::sim {

namespace {
std::size_t to_size(Eigen::Index v) { return static_cast<std::size_t>(v); }
}  // namespace

std::size_t AccumulatorPlan::buffer_size() const { return Accumulator::layout_of(*this).size; }

Accumulator::Layout Accumulator::layout_of(const AccumulatorPlan& plan) {
  const auto s = plan.dims.size();
  std::size_t stacked = 0;
  for (std::size_t i = 0; i < s; ++i)
    if (i >= plan.feature_space.size() || plan.feature_space[i]) stacked += to_size(plan.dims[i]);
  Layout l;
  std::size_t at = 2;
  l.colsum_at = at;
  at += stacked;
  l.gram_at = at;
  at += TiledGram(static_cast<Eigen::Index>(stacked)).size();
  if (plan.debiased) {
    l.sum_a_at = at;
    at += s;
    l.sum_ab_at = at;
    at += s * s;
    l.weighted_at = at;
    at += stacked * s;
  }
  if (plan.minibatch) {
    l.hsic_at = at;
    at += s * s * (1 + to_size(std::max(plan.permutations, 0)));
  }
  if (plan.row_moments) {
    l.norm4_at = at;
    at += s;
    l.norm2_weighted_at = at;
    at += stacked;
  }
  l.size = at;
  return l;
}

Accumulator::Accumulator(AccumulatorPlan plan) : plan_(std::move(plan)) {
  plan_.feature_space.resize(plan_.dims.size(), true);
  for (std::size_t i = 0; i < plan_.dims.size(); ++i) {
    offsets_.push_back(plan_.feature_space[i] ? stacked_rows_ : -1);
    if (plan_.feature_space[i]) stacked_rows_ += plan_.dims[i];
  }
  zz_ = TiledGram(stacked_rows_);
  at_ = layout_of(plan_);
  buffer_.assign(at_.size, 0.0);
}

void Accumulator::add_rows(const Eigen::Ref<const Matrix>& stacked, const double* weights) {
  const int s = sets();
  const Eigen::Index n = stacked.cols(), d = stacked_rows_;
  if (stacked.rows() != d) throw std::invalid_argument("Accumulator::add_rows: chunk height != stacked_rows()");
  Eigen::Map<Vector> colsum(buffer_.data() + at_.colsum_at, d);
  Vector w;
  Matrix scaled;  // Z diag(sqrt w): weighted copies only when weights are given (bootstrap)
  if (weights) {
    w = Eigen::Map<const Vector>(weights, n);
    buffer_[0] += w.sum();
    colsum.noalias() += stacked * w;
    scaled = stacked * w.cwiseSqrt().asDiagonal();
    zz_.add(buffer_.data() + at_.gram_at, scaled);
  } else {
    buffer_[0] += static_cast<double>(n);
    colsum += stacked.rowwise().sum();
    zz_.add(buffer_.data() + at_.gram_at, stacked);
  }
  if (!plan_.debiased && !plan_.row_moments) return;
  Matrix row_norms = Matrix::Zero(n, s);  // rows x S, a_r of each set (0 for non-feature-space)
  for (int i = 0; i < s; ++i)
    if (offset(i) >= 0)
      row_norms.col(i) = stacked.middleRows(offset(i), plan_.dims[to_size(i)]).colwise().squaredNorm().transpose();
  const Matrix weighted_norms = weights ? Matrix(w.asDiagonal() * row_norms) : row_norms;
  if (plan_.row_moments)
    for (int i = 0; i < s; ++i) {
      if (offset(i) < 0) continue;
      const auto dims = plan_.dims[to_size(i)];
      buffer_[at_.norm4_at + to_size(i)] += row_norms.col(i).dot(weighted_norms.col(i));
      Eigen::Map<Vector>(buffer_.data() + at_.norm2_weighted_at + to_size(offset(i)), dims).noalias() +=
          stacked.middleRows(offset(i), dims) * weighted_norms.col(i);
    }
  if (!plan_.debiased) return;
  Eigen::Map<Vector>(buffer_.data() + at_.sum_a_at, s) += weighted_norms.colwise().sum().transpose();
  Eigen::Map<Matrix>(buffer_.data() + at_.sum_ab_at, s, s).noalias() += row_norms.transpose() * weighted_norms;
  Eigen::Map<Matrix>(buffer_.data() + at_.weighted_at, d, s).noalias() += stacked * weighted_norms;
}

double Accumulator::row_norm4_sum(int i) const { return buffer_[at_.norm4_at + to_size(i)]; }

Vector Accumulator::row_norm2_weighted_sum(int i) const {
  return Eigen::Map<const Vector>(block(at_.norm2_weighted_at), stacked_rows_).segment(offset(i), plan_.dims[to_size(i)]);
}

std::vector<Eigen::Index> minibatch_permutation(std::uint64_t seed, std::int64_t minibatch,
                                                int permutation, Eigen::Index b) {
  std::vector<Eigen::Index> p(to_size(b));
  std::iota(p.begin(), p.end(), Eigen::Index{0});
  std::uint64_t state = splitmix64(splitmix64(splitmix64(seed) ^ static_cast<std::uint64_t>(minibatch)) ^
                                   static_cast<std::uint64_t>(permutation));
  for (Eigen::Index i = b - 1; i > 0; --i) {
    state = splitmix64(state);
    const auto j = static_cast<Eigen::Index>(state % static_cast<std::uint64_t>(i + 1));
    std::swap(p[to_size(i)], p[to_size(j)]);
  }
  return p;
}

void Accumulator::add_minibatch(std::int64_t minibatch, const std::vector<Matrix>& grams,
                                const std::vector<char>* pairs) {
  const int s = sets();
  auto wanted = [&](int i, int j) { return !pairs || (*pairs)[to_size(i) + to_size(j) * to_size(s)] != 0; };
  buffer_[1] += 1.0;
  std::vector<Vector> row_sums(to_size(s));
  for (int i = 0; i < s; ++i) row_sums[to_size(i)] = grams[to_size(i)].rowwise().sum();
  Eigen::Map<Matrix> hsic(buffer_.data() + at_.hsic_at, s, s);
  for (int i = 0; i < s; ++i)
    for (int j = i; j < s; ++j)
      if (wanted(i, j))
        hsic(i, j) += unbiased_hsic(hsic_terms(grams[to_size(i)], row_sums[to_size(i)],
                                             grams[to_size(j)], row_sums[to_size(j)]));
  // Permutation null: rows of the second set permuted relative to the first, within the
  // minibatch (L -> P L P'). The diagonal (i == j) is permuted too, as a null for self-pairs.
  const Eigen::Index b = grams.front().rows();
  for (int k = 0; k < plan_.permutations; ++k) {
    const auto perm = minibatch_permutation(plan_.seed, minibatch, k, b);
    Eigen::Map<Matrix> permuted(buffer_.data() + at_.hsic_at + to_size(s) * to_size(s) * to_size(k + 1), s, s);
    for (int j = 0; j < s; ++j) {
      bool any = false;
      for (int i = 0; i <= j; ++i) any = any || wanted(i, j);
      if (!any) continue;
      Matrix l(b, b);
      for (Eigen::Index c = 0; c < b; ++c)
        for (Eigen::Index r = 0; r < b; ++r) l(r, c) = grams[to_size(j)](perm[to_size(r)], perm[to_size(c)]);
      Vector l_rows(b);
      for (Eigen::Index r = 0; r < b; ++r) l_rows(r) = row_sums[to_size(j)](perm[to_size(r)]);
      for (int i = 0; i <= j; ++i)
        if (wanted(i, j))
          permuted(i, j) += unbiased_hsic(hsic_terms(grams[to_size(i)], row_sums[to_size(i)], l, l_rows));
    }
  }
}

Vector Accumulator::column_sums(int i) const {
  return Eigen::Map<const Vector>(block(at_.colsum_at), stacked_rows_).segment(offset(i), plan_.dims[to_size(i)]);
}

Matrix Accumulator::gram(int i) const { return cross(i, i); }

Matrix Accumulator::cross(int i, int j) const {
  return zz_.block(block(at_.gram_at), offset(i), plan_.dims[to_size(i)], offset(j), plan_.dims[to_size(j)]);
}

double Accumulator::gram_norm(int i) const { return std::sqrt(cross_squared_norm(i, i)); }

double Accumulator::cross_squared_norm(int i, int j) const {
  return zz_.squared_norm(block(at_.gram_at), offset(i), plan_.dims[to_size(i)], offset(j), plan_.dims[to_size(j)]);
}

LinearKernelSums Accumulator::kernel_sums(int i, int j) const {
  const int s = sets();
  const Matrix c = cross(i, j);
  const Vector sx = column_sums(i), sy = column_sums(j);
  const Eigen::Map<const Matrix> weighted(block(at_.weighted_at), stacked_rows_, s);  // Z'A
  const auto wx = weighted.middleRows(offset(i), plan_.dims[to_size(i)]);
  const auto wy = weighted.middleRows(offset(j), plan_.dims[to_size(j)]);
  LinearKernelSums k;
  k.n = rows();
  k.cross_norm2 = c.squaredNorm();
  k.sum_ab = Eigen::Map<const Matrix>(block(at_.sum_ab_at), s, s)(i, j);
  k.sum_a = buffer_[at_.sum_a_at + to_size(i)];
  k.sum_b = buffer_[at_.sum_a_at + to_size(j)];
  k.sx_norm2 = sx.squaredNorm();
  k.sy_norm2 = sy.squaredNorm();
  k.sx_cross_sy = sx.dot(c * sy);
  k.a_dot_ys = wy.col(i).dot(sy);  // sum_r a_r (y_r . s_y) = (Y'a) . s_y
  k.b_dot_xs = wx.col(j).dot(sx);
  return k;
}

double Accumulator::minibatch_hsic(int i, int j) const {
  if (i > j) std::swap(i, j);
  return Eigen::Map<const Matrix>(block(at_.hsic_at), sets(), sets())(i, j);
}

double Accumulator::permuted_minibatch_hsic(int permutation, int i, int j) const {
  if (i > j) std::swap(i, j);
  const auto s = to_size(sets());
  return Eigen::Map<const Matrix>(block(at_.hsic_at + s * s * to_size(permutation + 1)), sets(), sets())(i, j);
}

}  // namespace cfma::sim
