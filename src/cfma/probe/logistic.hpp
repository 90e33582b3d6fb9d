#pragma once
// Distributed multinomial logistic regression (the family probe). Objective (see
// probe_config.hpp): f(W, b) = (1/n) [ sum_i logloss_i + 0.5/C ||W||_F^2 ], intercept b
// unpenalised, minimised by L-BFGS from W = 0, b = 0. Each evaluation visits the local rows
// once (logits, softmax and gradient fused per cache-sized block) and all-reduces one flat
// buffer [loss, dW (D x K, column-major), db (K)].
#include <cstdint>
#include <span>

#include <Eigen/Core>
#include <boost/mpi/communicator.hpp>

#include "cfma/probe/lbfgs.hpp"
#include "cfma/probe/local_rows.hpp"

namespace cfma::probe {

struct LogisticModel {
  Eigen::MatrixXd weights;    // D x K
  Eigen::VectorXd intercept;  // K (sums to 0: the iteration never leaves that subspace)
  LbfgsResult solver;
};

// lbfgs: L-BFGS (lbfgs.hpp); newton_cg: truncated Newton, the Newton system solved by CG
// with Hessian-vector products (newton_cg.hpp), which converges on the nearly separable sets
// where L-BFGS runs to max_iter.
enum class LogisticSolver { lbfgs, newton_cg };

// `labels[i]` in [0, classes) is the label of local row i; n = global row count.
// `precondition` (lbfgs): a diagonal H0 from the columns' mean squares (one more pass).
// `options`: tol and max_iter for either solver; the rest for L-BFGS.
LogisticModel fit_logistic(const boost::mpi::communicator& comm, LocalRows& rows,
                           std::span<const int> labels, int classes, double C,
                           const LbfgsOptions& options, bool precondition = false,
                           LogisticSolver solver = LogisticSolver::lbfgs);

// Label of an evaluation row whose class had no training row (e.g. a test pitch outside the
// train pitches): counted wrong, left out of the log-loss.
inline constexpr int kUnseenClass = -1;

struct ClassificationMetrics {
  double accuracy = 0;  // fraction in [0, 1] of all rows
  double log_loss = 0;  // mean over the rows of a class seen in training (NaN: none)
};
ClassificationMetrics evaluate_logistic(const boost::mpi::communicator& comm, LocalRows& rows,
                                        std::span<const int> labels, const LogisticModel& model);

}  // namespace cfma::probe
