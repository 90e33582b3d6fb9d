#pragma once
// Similarity measures as small pure functions (Kornblith et al. 2019 style). They take the
// sufficient statistics the distributed job all-reduces (Gram blocks X'X, cross blocks X'Y,
// row-norm sums, per-minibatch Gram matrices), never raw n x n kernels of the full data.
//
// Conventions: X is n x p, Y is n x q, rows = examples; "centred" means centred column-wise by
// the train mean (reference-spec 7.1). All arithmetic is float64 (reference Q16 fix).
#include <Eigen/Dense>

namespace cfma::sim {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

// Linear CKA, feature-space form with the biased HSIC:
//   ||Y'X||_F^2 / (||X'X||_F ||Y'Y||_F)
// from cross = X'Y (p x q), gram_x = X'X, gram_y = Y'Y of centred data (full symmetric Grams).
double linear_cka(const Matrix& cross, const Matrix& gram_x, const Matrix& gram_y);
// The same from the three Frobenius quantities (the form the job uses).
double linear_cka(double cross_norm2, double gram_x_norm, double gram_y_norm);

// The four sums the unbiased HSIC estimator (Song et al. 2012, eq. 5) needs, for kernels K, L
// with their diagonals set to zero (written K~, L~):
//   trace_kl = tr(K~ L~), sum_k = 1'K~1, sum_l = 1'L~1, sum_kl = 1'K~L~1.
struct HsicTerms {
  double n = 0;
  double trace_kl = 0;
  double sum_k = 0;
  double sum_l = 0;
  double sum_kl = 0;
};
// Unbiased HSIC:
//   [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3)).   Needs n >= 4.
double unbiased_hsic(const HsicTerms& t);

// Feature-space sums of the linear kernels K = XX', L = YY' (Nguyen et al.'s debiased CKA
// without forming K): with a_i = ||x_i||^2, b_i = ||y_i||^2, s_x = X'1, s_y = Y'1,
//   tr(K~L~) = ||X'Y||^2 - sum a_i b_i,   1'K~1 = ||s_x||^2 - sum a_i,
//   1'K~L~1 = s_x'X'Y s_y - sum a_i (y_i.s_y) - sum b_i (x_i.s_x) + sum a_i b_i.
// Exact for any centring (the estimator is invariant to shifts; centred data keeps it accurate).
struct LinearKernelSums {
  double n = 0;
  double cross_norm2 = 0;    // ||X'Y||_F^2
  double sum_ab = 0;         // sum_i a_i b_i
  double sum_a = 0, sum_b = 0;
  double sx_norm2 = 0, sy_norm2 = 0;  // ||s_x||^2, ||s_y||^2
  double sx_cross_sy = 0;    // s_x' X'Y s_y
  double a_dot_ys = 0;       // sum_i a_i (y_i . s_y)
  double b_dot_xs = 0;       // sum_i b_i (x_i . s_x)
};
HsicTerms hsic_terms(const LinearKernelSums& s);

// Debiased linear CKA: HSIC_u(K,L) / sqrt(HSIC_u(K,K) HSIC_u(L,L)).
double debiased_cka(double hsic_xy, double hsic_xx, double hsic_yy);

// Gram-space sums of one minibatch: `k` and `l` are K~ and L~ (b x b, zero diagonal), with
// row sums `k_rows` = K~1 and `l_rows` = L~1.
HsicTerms hsic_terms(const Matrix& k, const Vector& k_rows, const Matrix& l, const Vector& l_rows);
// K~ = XX' with its diagonal zeroed, for the rows of one minibatch, given TRANSPOSED (x_t:
// p x b, one column per example, the layout the job's chunk buffers have).
Matrix zero_diagonal_gram(const Eigen::Ref<const Matrix>& x_t);

// Whitening of a covariance block S (p x p, X'X of centred data): W (p x r) with W'SW = I_r,
// r = numerical rank (eigenvalues > rank_tolerance * largest eigenvalue are kept). Q_X = X W
// is then an orthonormal basis of X's column space, without forming it.
struct Whitening {
  Matrix w;
  Eigen::Index rank = 0;
};
Whitening whitening(const Matrix& cov, double rank_tolerance);

// CCA similarity as the paper wrote it (reference 7.3, Q18 "M"): ||Qy'Qx||_F^2 / p_x, with
// cross = X'Y (p x q). p_x = number of X's columns (not its rank).
double cca_r2(const Matrix& cross, const Whitening& wx, const Whitening& wy, Eigen::Index px);
// The fixed alternative (Q18 "F"): mean squared canonical correlation over min(rank_x, rank_y).
double cca_r2_mean(const Matrix& cross, const Whitening& wx, const Whitening& wy);
// Linear-regression similarity: ||Qy'X||_F^2 / ||X||_F^2 = share of X's variance explained by
// least squares on Y; trace_x = tr(X'X) = ||X||_F^2.
double lr_r2(const Matrix& cross, const Whitening& wy, double trace_x);

// The CCA and LR values of a pair in both directions from three products (C Wy, then
// M = Wx' (C Wy), and C' Wx) rather than one product chain per value; cross = X'Y.
//   cca_xy = cca_r2(cross, wx, wy, px), cca_yx = cca_r2(cross', wy, wx, py) (both ||M||^2 over a
//   width), cca_mean = cca_r2_mean (either way), lr_xy = lr_r2(cross, wy, trace_x),
//   lr_yx = lr_r2(cross', wx, trace_y); `canonical` = M, whose singular values are the
//   canonical correlations (PWCCA reuses it).
struct PairCcaLr {
  double cca_xy = 0, cca_yx = 0, cca_mean = 0, lr_xy = 0, lr_yx = 0;
  Matrix canonical;
};
PairCcaLr cca_lr_pair(const Matrix& cross, const Whitening& wx, const Whitening& wy, Eigen::Index px, Eigen::Index py,
                      double trace_x, double trace_y);

// Orthogonal Procrustes distance as anatome defines it (and half of netrep's squared
// Procrustes distance between unit-norm sets): 1 - ||X'Y||_* / (||X||_F ||Y||_F), from
// cross = X'Y and the traces tr(X'X), tr(Y'Y) of centred data. 0: equal up to a rotation and
// a scale; 1: orthogonal. Symmetric.
double procrustes_distance(const Matrix& cross, double trace_x, double trace_y);

// SVCCA's reduction of a set (Raghu et al. 2017): the top eigenvectors of X'X whose
// eigenvalues (the squared singular values of X) reach `keep` of their sum, and those
// eigenvalues, largest first. The reduced set is X v.
struct SvdReduction {
  Matrix v;
  Vector lambda;
};
SvdReduction svd_reduction(const Matrix& cov, double keep);
// SVCCA: the mean canonical correlation of the reduced sets, i.e. of the singular values of
// Lx^-1/2 Vx' X'Y Vy Ly^-1/2 over min(kx, ky). Symmetric.
double svcca(const Matrix& cross, const SvdReduction& rx, const SvdReduction& ry);

// PWCCA (Morcos et al. 2018) on centred sets: the canonical correlations rho_i of X and Y
// (singular values of Wx' X'Y Wy) weighted by alpha_i = sum_j |<h_i, x_j>|, with h_i the unit
// canonical variates of the set of smaller rank (X on a tie) and x_j that set's columns:
// sum alpha_i rho_i / sum alpha_i. cov_x = X'X, cov_y = Y'Y. Symmetric.
double pwcca(const Matrix& cross, const Matrix& cov_x, const Whitening& wx, const Matrix& cov_y, const Whitening& wy);
// The same from canonical = Wx' X'Y Wy (cca_lr_pair's).
double pwcca_from_canonical(const Matrix& canonical, const Matrix& cov_x, const Whitening& wx, const Matrix& cov_y,
                            const Whitening& wy);

// Dense reference forms on raw matrices (tests, small data): centre columns by their own mean.
Matrix centred(const Matrix& x);

}  // namespace cfma::sim
