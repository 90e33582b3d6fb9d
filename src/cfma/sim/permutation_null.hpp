#pragma once
// The exact permutation null of linear CKA's numerator: mean and sd of ||X' P Y||_F^2 =
// tr(K P L P') over all n! orderings P of the rows of Y (K = X X', L = Y Y'), in closed form,
// so linear_cka_calibrated costs no permuted pass and no permuted Gram.
//
// X is centred with the train means, so on the test split its rows are offset from their own
// mean by d: K = K~ + f 1' + 1 f' + ||d||^2 11' with K~ centred and f = X~ d. Then
// tr(K P L P') = tr(K~ P L~ P') + 2 n f' P g + n^2 ||d||^2 ||e||^2, whose first term has the
// moments of Kazi-Aoual et al. (1995), as in Josse, Pages & Husson (2008), the second those of
// a permuted inner product, and their covariance n (sum_i K~_ii f_i)(sum_i L~_ii g_i) /
// ((n - 1)(n - 2)) (derived by index coincidences; the test checks all of it against every
// permutation of 7 rows).
#include "cfma/sim/measures.hpp"

namespace cfma::sim {

// What the null needs of one set, from sums over its n rows u_i (centred with the train mean).
struct RowMoments {
  double n = 0;
  double trace = 0;        // tr K~ = sum_i ||u_i - m||^2, m = the rows' own mean
  double trace2 = 0;       // tr K~^2 = ||X~'X~||_F^2
  double diagonal2 = 0;    // sum_i K~_ii^2
  double offset2 = 0;      // ||d||^2, d = m (the offset of the rows' mean)
  double offset_form = 0;  // sum_i f_i^2 = d' X~'X~ d
  double alpha = 0;        // sum_i K~_ii f_i
};

// From the sums the accumulator keeps: gram = sum u u', sums = sum u, norm4 = sum ||u||^4,
// norm2_weighted = sum ||u||^2 u.
RowMoments row_moments(const Matrix& gram, const Vector& sums, double norm4, const Vector& norm2_weighted, double n);

struct NullMoments {
  double mean = 0, sd = 0;
};

// Mean and sd of tr(K P L P') over uniform permutations P; NaN for n < 4.
NullMoments permutation_null(const RowMoments& x, const RowMoments& y);

}  // namespace cfma::sim
