#pragma once
// Limited-memory BFGS (Nocedal & Wright, Alg. 7.4/7.5) with a backtracking Armijo line search.
// Every rank runs the same iteration on the same (all-reduced) values, so the objective
// callback is the only collective part: one evaluation = one all-reduce of [loss, gradient].
#include <functional>
#include <string>

#include <Eigen/Core>

namespace cfma::probe {

struct LbfgsOptions {
  double tol = 1e-6;         // stop when max_j |g_j| <= tol
  int max_iter = 1000;
  int memory = 10;           // correction pairs
  int max_line_search = 60;  // step halvings before giving up
};

struct LbfgsResult {
  int iterations = 0;
  int evaluations = 0;
  double objective = 0;
  double grad_max = 0;  // max-abs gradient at the returned point
  bool converged = false;
  std::string stop_reason;  // "tol", "max_iter", "line_search", "stalled"
};

// Objective: fills `grad` (same size as x) and returns f(x).
using Objective = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd& grad)>;

// Minimises from the initial `x` (updated in place).
LbfgsResult minimise_lbfgs(const Objective& objective, Eigen::VectorXd& x, const LbfgsOptions& options);

}  // namespace cfma::probe
