#pragma once
// Truncated Newton (Nocedal & Wright, Alg. 7.1, "line search Newton-CG"): each iteration
// solves H d = -g approximately by preconditioned conjugate gradients (preconditioner: H's
// diagonal; forcing term eta = min(0.5, sqrt(||g||)), so the steps become Newton steps near the
// optimum) and takes the first step 1, 1/2, ... with sufficient decrease. On the nearly
// separable probe sets L-BFGS needs 600-1000+ iterations: its curvature pairs see the flat
// directions one at a time, where H v products see them all. Every rank runs the same iteration
// on all-reduced values: the callbacks are the collective part.
#include <functional>

#include <Eigen/Core>

#include "cfma/probe/lbfgs.hpp"

namespace cfma::probe {

// out = H(x_last) v, where x_last is the point of the last objective evaluation; the
// diagonal callback ignores v and fills out with H's diagonal.
using HessianProduct = std::function<void(const Eigen::VectorXd& v, Eigen::VectorXd& out)>;

// Minimises from `x` (updated in place); options.tol (max-abs gradient) and options.max_iter
// (Newton iterations) apply. evaluations counts objective and Hessian-product calls.
LbfgsResult minimise_newton_cg(const Objective& objective, const HessianProduct& hessian_times,
                               const HessianProduct& hessian_diagonal, Eigen::VectorXd& x,
                               const LbfgsOptions& options);

}  // namespace cfma::probe
