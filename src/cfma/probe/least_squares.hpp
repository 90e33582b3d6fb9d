#pragma once
// Distributed least squares with unpenalised intercept (the pitch and velocity probes), for
// T targets at once (they share every pass over the rows):
//   min_{W,b} sum_i ||y_i - W'x_i - b||^2 + ridge * ||W||_F^2
// Centring makes the intercept exact: with x̄, ȳ the train means, W solves
//   (Xc'Xc + ridge I) W = Xc'Yc,  b = ȳ - W'x̄,   Xc'Xc = X'X - n x̄x̄'.
// D <= cholesky_max_dim: X'X, X'1 and X'Yc are accumulated per chunk and all-reduced in one
//   buffer, then solved by LDLT (Eigen's pivoted LDL'); if that fails (non-finite result) a
//   jitter of 1e-12, 1e-10, 1e-8 x mean diagonal is added. Pivots below 1e-12 x the largest
//   count as zero and their components of the solution are set to 0 (constant columns, D >= n),
//   so rank-deficient OLS has a stable, rank-count-independent solution; `rank` reports how many
//   pivots were kept.
// D > cholesky_max_dim: conjugate gradients on the normal equations, never forming D x D:
//   each matvec is one pass over the rows (X'(X P)) and one all-reduce of a D x T buffer.
//   Started from W = 0, CG stays in the row space of Xc, so it tends to the minimum-norm
//   solution; with ridge = 0 and D close to n it is stopped by cg_tol / cg_max_iter.
#include <string>

#include <vector>

#include <Eigen/Core>
#include <boost/mpi/communicator.hpp>

#include "cfma/probe/local_rows.hpp"

namespace cfma::probe {

struct LeastSquaresOptions {
  double ridge = 0.0;
  std::int64_t cholesky_max_dim = 4096;
  double cg_tol = 1e-10;
  int cg_max_iter = 2000;
};

struct LinearModel {
  Eigen::MatrixXd weights;    // D x T
  Eigen::VectorXd intercept;  // T
  std::string solver;         // "ldlt", "ldlt+jitter", "cg"
  int iterations = 0;         // CG iterations
  bool converged = true;
  double jitter = 0;
  Eigen::Index rank = 0;      // LDLT pivots kept
};

// `targets`: local rows x T, aligned with `rows`.
LinearModel fit_least_squares(const boost::mpi::communicator& comm, LocalRows& rows,
                              const Eigen::MatrixXd& targets, const LeastSquaresOptions& options);

struct RegressionMetrics {
  Eigen::VectorXd rmse;  // per target
  Eigen::VectorXd r2;    // 1 - SSE / sum (y - mean_split(y))^2 (scikit-learn's r2_score)
};
// `rows_kept` (optional, one 0/1 per local row): score only the kept rows (the paper's
// last-batch metric, Q9).
RegressionMetrics evaluate_linear(const boost::mpi::communicator& comm, LocalRows& rows,
                                  const Eigen::MatrixXd& targets, const LinearModel& model,
                                  const std::vector<char>& rows_kept = {});

}  // namespace cfma::probe
