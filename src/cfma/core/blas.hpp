#pragma once
// The level-3 products the similarity reduction and the probes' row-space Grams spend their
// time in, on the system BLAS (Debian's libblas.so.3, which install-deps points at OpenBLAS;
// threads and kernels: core/blas_runtime.hpp), and the pivoted Cholesky factorisation of its
// LAPACK (liblapack.so.3: OpenBLAS's too). Eigen's own SYRK runs on one thread and its GEMM
// reaches about 75 % of OpenBLAS here (bench/README.md, similarity).
#include <vector>

#include <Eigen/Dense>

namespace cfma {

// C(lower) += X X'  for X (d x k, column-major, any leading dimension), C d x d column-major.
void syrk_lower_add(Eigen::Ref<Eigen::MatrixXd> c, const Eigen::Ref<const Eigen::MatrixXd>& x);
// C += X Y'  for X (p x k), Y (q x k), C p x q.
void gemm_nt_add(Eigen::Ref<Eigen::MatrixXd> c, const Eigen::Ref<const Eigen::MatrixXd>& x,
                 const Eigen::Ref<const Eigen::MatrixXd>& y);

// P' A P = L L' for the positive semidefinite `a`, from its lower triangle (LAPACK dpstrf,
// complete pivoting), stopped at the first pivot <= `tol`: `factor` is L's first `rank`
// columns (n x rank, lower trapezoidal, rows in pivot order), `pivots[i]` the row of A that
// is row i of P'AP. Rank-revealing at O(n^3 / 3): 0.044 s for n = 1,500 on one thread, where
// LAPACK's eigensolver dsyevd takes 0.57 s and Eigen's SelfAdjointEigenSolver 3.0 s.
struct PivotedCholesky {
  Eigen::MatrixXd factor;
  std::vector<int> pivots;
  Eigen::Index rank = 0;
};
PivotedCholesky pivoted_cholesky(const Eigen::Ref<const Eigen::MatrixXd>& a, double tol);

// Eigenvalues (ascending) and, with `vectors`, orthonormal eigenvectors (columns, same order) of
// the symmetric `a`, from its lower triangle (LAPACK dsyevd: divide and conquer after a blocked
// tridiagonalisation, about 5x faster than Eigen's SelfAdjointEigenSolver at n = 1,000-4,000).
struct SymmetricEigen {
  Eigen::VectorXd values;
  Eigen::MatrixXd vectors;  // empty without `vectors`
};
SymmetricEigen symmetric_eigen(const Eigen::Ref<const Eigen::MatrixXd>& a, bool vectors = true);

}  // namespace cfma
