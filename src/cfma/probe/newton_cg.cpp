#include "cfma/probe/newton_cg.hpp"

#include <algorithm>
#include <cmath>

namespace cfma::probe {

LbfgsResult minimise_newton_cg(const Objective& objective, const HessianProduct& hessian_times,
                               const HessianProduct& hessian_diagonal, Eigen::VectorXd& x,
                               const LbfgsOptions& options) {
  constexpr int max_cg = 250;
  LbfgsResult result;
  const Eigen::Index p = x.size();
  Eigen::VectorXd grad(p), grad_new(p), x_new(p), step(p), r(p), z(p), dir(p), hd(p), diag(p);
  double f = objective(x, grad);
  result.evaluations = 1;
  while (true) {
    result.grad_max = grad.cwiseAbs().maxCoeff();
    if (result.grad_max <= options.tol) {
      result.converged = true;
      result.stop_reason = "tol";
      break;
    }
    if (result.iterations >= options.max_iter) {
      result.stop_reason = "max_iter";
      break;
    }
    // Preconditioned CG on H s = -g from s = 0 (the Hessian of the last evaluated point, x).
    hessian_diagonal(x, diag);
    ++result.evaluations;
    const double floor = 1e-12 * std::max(diag.maxCoeff(), 1e-300);
    const Eigen::VectorXd inv_diag = diag.cwiseMax(floor).cwiseInverse();
    const double g_norm = grad.norm();
    const double cg_tol = std::min(0.5, std::sqrt(g_norm)) * g_norm;
    step.setZero();
    r = -grad;
    z = inv_diag.cwiseProduct(r);
    dir = z;
    double rz = r.dot(z);
    for (int j = 0; j < max_cg; ++j) {
      hessian_times(dir, hd);
      ++result.evaluations;
      const double curvature = dir.dot(hd);
      if (!(curvature > 0)) {  // not positive definite along dir (rounding): keep what we have
        if (j == 0) step = -inv_diag.cwiseProduct(grad);
        break;
      }
      const double alpha = rz / curvature;
      step.noalias() += alpha * dir;
      r.noalias() -= alpha * hd;
      if (r.norm() <= cg_tol) break;
      z = inv_diag.cwiseProduct(r);
      const double rz_next = r.dot(z);
      dir = z + (rz_next / rz) * dir;
      rz = rz_next;
    }
    // Backtracking from the Newton step.
    const double slope = grad.dot(step);
    if (!(slope < 0)) {
      result.stop_reason = "line_search";
      break;
    }
    double t = 1.0, f_new = f;
    bool accepted = false;
    for (int ls = 0; ls < options.max_line_search; ++ls, t *= 0.5) {
      x_new = x + t * step;
      f_new = objective(x_new, grad_new);
      ++result.evaluations;
      if (std::isfinite(f_new) && f_new <= f + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {  // the objective's own rounding floor: the last point evaluated is not x
      objective(x, grad);
      ++result.evaluations;
      result.stop_reason = "line_search";
      break;
    }
    x.swap(x_new);
    grad.swap(grad_new);
    f = f_new;
    ++result.iterations;
  }
  result.grad_max = grad.cwiseAbs().maxCoeff();
  result.objective = f;
  return result;
}

}  // namespace cfma::probe
