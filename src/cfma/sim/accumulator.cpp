#include "cfma/sim/accumulator.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace cfma::sim {

namespace {
std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
std::size_t to_size(Eigen::Index v) { return static_cast<std::size_t>(v); }
}  // namespace

std::size_t AccumulatorPlan::buffer_size() const { return Accumulator::layout_of(*this).size; }

Accumulator::Layout Accumulator::layout_of(const AccumulatorPlan& plan) {
  const auto s = plan.dims.size();
  auto fs = [&](std::size_t i) { return i >= plan.feature_space.size() || plan.feature_space[i]; };
  auto dim = [&](std::size_t i) { return to_size(plan.dims[i]); };
  Layout l;
  std::size_t at = 2;
  l.colsum_at.assign(s, 0);
  l.gram_at.assign(s, 0);
  l.weighted_at.assign(s, 0);
  l.cross_at.assign(s * s, 0);
  for (std::size_t i = 0; i < s; ++i) {
    if (!fs(i)) continue;
    l.colsum_at[i] = at;
    at += dim(i);
    l.gram_at[i] = at;
    at += dim(i) * dim(i);
  }
  for (std::size_t i = 0; i < s; ++i)
    for (std::size_t j = i + 1; j < s; ++j) {
      if (!fs(i) || !fs(j)) continue;
      l.cross_at[i * s + j] = at;
      at += dim(i) * dim(j);
    }
  if (plan.debiased) {
    l.sum_a_at = at;
    at += s;
    l.sum_ab_at = at;
    at += s * s;
    for (std::size_t i = 0; i < s; ++i) {
      if (!fs(i)) continue;
      l.weighted_at[i] = at;
      at += dim(i) * s;
    }
  }
  if (plan.minibatch) {
    l.hsic_at = at;
    at += s * s * (1 + to_size(std::max(plan.permutations, 0)));
  }
  l.size = at;
  return l;
}

Accumulator::Accumulator(AccumulatorPlan plan) : plan_(std::move(plan)) {
  plan_.feature_space.resize(plan_.dims.size(), true);
  at_ = layout_of(plan_);
  buffer_.assign(at_.size, 0.0);
}

std::size_t Accumulator::pair_offset(int i, int j) const {
  return at_.cross_at[to_size(i) * to_size(sets()) + to_size(j)];
}

void Accumulator::add_rows(const std::vector<ConstMap>& rows_t, const double* weights) {
  const int s = sets();
  if (s == 0) return;
  Eigen::Index n = 0;  // wide sets arrive as empty views
  for (const auto& x : rows_t) n = std::max(n, x.cols());
  Vector w = weights ? Vector(Eigen::Map<const Vector>(weights, n)) : Vector::Ones(n);
  const Vector sqrt_w = w.cwiseSqrt();
  buffer_[0] += w.sum();
  Matrix row_norms;  // rows x S, a_r of each set (zero for sets without feature-space sums)
  if (plan_.debiased) row_norms = Matrix::Zero(n, s);
  // Weighted copies only when weights are given (bootstrap), else the chunk itself.
  std::vector<Matrix> scaled(to_size(s));
  for (int i = 0; i < s; ++i) {
    if (!plan_.feature_space[to_size(i)]) continue;
    const auto& x = rows_t[to_size(i)];
    const auto d = plan_.dims[to_size(i)];
    Eigen::Map<Vector>(buffer_.data() + at_.colsum_at[to_size(i)], d).noalias() += x * w;
    Eigen::Map<Matrix> gram(buffer_.data() + at_.gram_at[to_size(i)], d, d);
    if (weights) {
      scaled[to_size(i)] = x * sqrt_w.asDiagonal();
      gram.selfadjointView<Eigen::Lower>().rankUpdate(scaled[to_size(i)]);
    } else {
      gram.selfadjointView<Eigen::Lower>().rankUpdate(x);
    }
    if (plan_.debiased) row_norms.col(i) = x.colwise().squaredNorm().transpose();
  }
  for (int i = 0; i < s; ++i)
    for (int j = i + 1; j < s; ++j) {
      if (!plan_.feature_space[to_size(i)] || !plan_.feature_space[to_size(j)]) continue;
      Eigen::Map<Matrix> c(buffer_.data() + pair_offset(i, j), plan_.dims[to_size(i)],
                           plan_.dims[to_size(j)]);
      if (weights)
        c.noalias() += scaled[to_size(i)] * scaled[to_size(j)].transpose();
      else
        c.noalias() += rows_t[to_size(i)] * rows_t[to_size(j)].transpose();
    }
  if (plan_.debiased) {
    const Matrix weighted_norms = w.asDiagonal() * row_norms;
    Eigen::Map<Vector>(buffer_.data() + at_.sum_a_at, s) += weighted_norms.colwise().sum().transpose();
    Eigen::Map<Matrix>(buffer_.data() + at_.sum_ab_at, s, s).noalias() += row_norms.transpose() * weighted_norms;
    for (int i = 0; i < s; ++i) {
      if (!plan_.feature_space[to_size(i)]) continue;
      Eigen::Map<Matrix>(buffer_.data() + at_.weighted_at[to_size(i)], plan_.dims[to_size(i)], s)
          .noalias() += rows_t[to_size(i)] * weighted_norms;
    }
  }
}

std::vector<Eigen::Index> minibatch_permutation(std::uint64_t seed, std::int64_t minibatch,
                                                int permutation, Eigen::Index b) {
  std::vector<Eigen::Index> p(to_size(b));
  std::iota(p.begin(), p.end(), Eigen::Index{0});
  std::uint64_t state = splitmix(splitmix(splitmix(seed) ^ static_cast<std::uint64_t>(minibatch)) ^
                                 static_cast<std::uint64_t>(permutation));
  for (Eigen::Index i = b - 1; i > 0; --i) {
    state = splitmix(state);
    const auto j = static_cast<Eigen::Index>(state % static_cast<std::uint64_t>(i + 1));
    std::swap(p[to_size(i)], p[to_size(j)]);
  }
  return p;
}

void Accumulator::add_minibatch(std::int64_t minibatch, const std::vector<Matrix>& grams) {
  const int s = sets();
  buffer_[1] += 1.0;
  std::vector<Vector> row_sums(to_size(s));
  for (int i = 0; i < s; ++i) row_sums[to_size(i)] = grams[to_size(i)].rowwise().sum();
  Eigen::Map<Matrix> hsic(buffer_.data() + at_.hsic_at, s, s);
  for (int i = 0; i < s; ++i)
    for (int j = i; j < s; ++j)
      hsic(i, j) += unbiased_hsic(hsic_terms(grams[to_size(i)], row_sums[to_size(i)],
                                             grams[to_size(j)], row_sums[to_size(j)]));
  // Permutation null: rows of the second set permuted relative to the first, within the
  // minibatch (L -> P L P'). The diagonal (i == j) is permuted too, as a null for self-pairs.
  const Eigen::Index b = grams.front().rows();
  for (int k = 0; k < plan_.permutations; ++k) {
    const auto perm = minibatch_permutation(plan_.seed, minibatch, k, b);
    Eigen::Map<Matrix> permuted(buffer_.data() + at_.hsic_at + to_size(s) * to_size(s) * to_size(k + 1), s, s);
    for (int j = 0; j < s; ++j) {
      Matrix l(b, b);
      for (Eigen::Index c = 0; c < b; ++c)
        for (Eigen::Index r = 0; r < b; ++r) l(r, c) = grams[to_size(j)](perm[to_size(r)], perm[to_size(c)]);
      Vector l_rows(b);
      for (Eigen::Index r = 0; r < b; ++r) l_rows(r) = row_sums[to_size(j)](perm[to_size(r)]);
      for (int i = 0; i <= j; ++i)
        permuted(i, j) += unbiased_hsic(hsic_terms(grams[to_size(i)], row_sums[to_size(i)], l, l_rows));
    }
  }
}

Vector Accumulator::column_sums(int i) const {
  return Eigen::Map<const Vector>(block(at_.colsum_at[to_size(i)]), plan_.dims[to_size(i)]);
}

Matrix Accumulator::gram(int i) const {
  const auto d = plan_.dims[to_size(i)];
  Matrix g = Eigen::Map<const Matrix>(block(at_.gram_at[to_size(i)]), d, d);
  g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
  return g;
}

Matrix Accumulator::cross(int i, int j) const {
  if (i == j) return gram(i);
  if (i > j) return cross(j, i).transpose();
  return Eigen::Map<const Matrix>(block(pair_offset(i, j)), plan_.dims[to_size(i)], plan_.dims[to_size(j)]);
}

LinearKernelSums Accumulator::kernel_sums(int i, int j) const {
  const int s = sets();
  const Matrix c = cross(i, j);
  const Vector sx = column_sums(i), sy = column_sums(j);
  const Eigen::Map<const Matrix> wx(block(at_.weighted_at[to_size(i)]), plan_.dims[to_size(i)], s);
  const Eigen::Map<const Matrix> wy(block(at_.weighted_at[to_size(j)]), plan_.dims[to_size(j)], s);
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
