#include "cfma/sim/permutation_null.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace cfma::sim {

RowMoments row_moments(const Matrix& gram, const Vector& sums, double norm4, const Vector& norm2_weighted, double n) {
  if (gram.rows() != sums.size() || norm2_weighted.size() != sums.size())
    throw std::invalid_argument("row_moments: gram, sums and norm2_weighted differ in width");
  RowMoments m;
  m.n = n;
  const Vector d = sums / n;  // x_i = u_i - d are the rows about their own mean
  const Vector gd = gram * d;
  const double c = d.squaredNorm(), trace_u = gram.trace(), dgd = d.dot(gd);
  m.offset2 = c;
  m.trace = trace_u - n * c;
  // ||X~'X~||^2 with X~'X~ = G - n d d'.
  m.trace2 = gram.squaredNorm() - 2.0 * n * dgd + n * n * c * c;
  // ||x_i||^2 = ||u_i||^2 - 2 u_i.d + c, squared and summed.
  m.diagonal2 = norm4 - 4.0 * d.dot(norm2_weighted) + 4.0 * dgd + 2.0 * c * trace_u - 3.0 * n * c * c;
  m.offset_form = dgd - n * c * c;
  // sum_i ||x_i||^2 x_i, dotted with d.
  const Vector r = norm2_weighted - 2.0 * gd + (2.0 * n * c - trace_u) * d;
  m.alpha = r.dot(d);
  return m;
}

NullMoments permutation_null(const RowMoments& x, const RowMoments& y) {
  const double n = x.n;
  if (n < 4 || y.n != n) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  NullMoments out;
  out.mean = x.trace * y.trace / (n - 1) + n * n * x.offset2 * y.offset2;
  const double centred =
      2.0 * ((n - 1) * x.trace2 - x.trace * x.trace) * ((n - 1) * y.trace2 - y.trace * y.trace) /
          ((n - 1) * (n - 1) * (n + 1) * (n - 2)) +
      (n * (n + 1) * x.diagonal2 - (n - 1) * (x.trace * x.trace + 2 * x.trace2)) *
          (n * (n + 1) * y.diagonal2 - (n - 1) * (y.trace * y.trace + 2 * y.trace2)) /
          ((n + 1) * n * (n - 1) * (n - 2) * (n - 3));
  const double inner = x.offset_form * y.offset_form / (n - 1);
  const double covariance = n * x.alpha * y.alpha / ((n - 1) * (n - 2));
  // Rounding can leave a tiny negative variance for (near) constant sets.
  out.sd = std::sqrt(std::max(0.0, centred + 4 * n * n * inner + 4 * n * covariance));
  return out;
}

}  // namespace cfma::sim
