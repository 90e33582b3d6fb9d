#pragma once
// Limited-memory BFGS (Nocedal & Wright, Alg. 7.4/7.5). Line search: strong Wolfe conditions
// (N&W Alg. 3.5/3.6, cubic interpolation, c1 = 1e-4, c2 = 0.9), as scipy's L-BFGS-B and
// liblbfgs use, or the earlier backtracking Armijo search. On the nearly separable problems
// probes meet, Armijo accepts short steps whose curvature pairs say little, and the
// iteration crawls to max_iter; strong Wolfe steps keep s'y informative.
// Every rank runs the same iteration on the same (all-reduced) values, so the objective
// callback is the only collective part: one evaluation = one all-reduce of [loss, gradient].
#include <functional>
#include <string>

#include <Eigen/Core>

namespace cfma::probe {

enum class LineSearch { strong_wolfe, armijo };

struct LbfgsOptions {
  double tol = 1e-6;         // stop when max_j |g_j| <= tol
  int max_iter = 1000;
  int memory = 10;           // correction pairs
  int max_line_search = 60;  // objective evaluations per line search
  LineSearch line_search = LineSearch::strong_wolfe;
  // Diagonal of the initial inverse Hessian H0 (empty: identity), scaled each iteration by
  // s'y / y'H0 y as the scalar H0 is. Carries the objective's curvature per variable when the
  // variables have very different scales (the row-space columns' variances span decades).
  Eigen::VectorXd preconditioner;
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

LineSearch parse_line_search(const std::string& name);  // "strong_wolfe" | "armijo"
std::string to_string(LineSearch search);

}  // namespace cfma::probe
