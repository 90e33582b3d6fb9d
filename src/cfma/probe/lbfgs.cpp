#include "cfma/probe/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <deque>

namespace cfma::probe {

LbfgsResult minimise_lbfgs(const Objective& objective, Eigen::VectorXd& x, const LbfgsOptions& options) {
  LbfgsResult result;
  Eigen::VectorXd grad(x.size());
  double f = objective(x, grad);
  result.evaluations = 1;
  struct Pair {
    Eigen::VectorXd s, y;
    double rho;
  };
  std::deque<Pair> pairs;
  Eigen::VectorXd direction(x.size()), x_new(x.size()), grad_new(x.size());
  std::vector<double> alpha(static_cast<std::size_t>(options.memory));
  int stalled = 0;

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
    // Two-loop recursion: direction = -H g, with H0 = (s'y / y'y) I.
    direction = -grad;
    for (std::size_t i = pairs.size(); i-- > 0;) {
      alpha[i] = pairs[i].rho * pairs[i].s.dot(direction);
      direction.noalias() -= alpha[i] * pairs[i].y;
    }
    if (!pairs.empty()) direction *= 1.0 / (pairs.back().rho * pairs.back().y.squaredNorm());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const double beta = pairs[i].rho * pairs[i].y.dot(direction);
      direction.noalias() += (alpha[i] - beta) * pairs[i].s;
    }
    double slope = grad.dot(direction);
    if (!(slope < 0)) {  // not a descent direction (numerical trouble): restart with -g
      pairs.clear();
      direction = -grad;
      slope = -grad.squaredNorm();
    }
    // First step of a fresh start: scale so that the step has unit length.
    double step = pairs.empty() ? std::min(1.0, 1.0 / std::sqrt(-slope)) : 1.0;
    double f_new = f;
    bool accepted = false;
    for (int ls = 0; ls < options.max_line_search; ++ls) {
      x_new = x + step * direction;
      f_new = objective(x_new, grad_new);
      ++result.evaluations;
      if (std::isfinite(f_new) && f_new <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      result.stop_reason = "line_search";
      break;
    }
    Pair pair{x_new - x, grad_new - grad, 0.0};
    const double sy = pair.s.dot(pair.y);
    if (sy > 1e-12 * pair.s.norm() * pair.y.norm()) {  // keep H positive definite
      pair.rho = 1.0 / sy;
      pairs.push_back(std::move(pair));
      if (static_cast<int>(pairs.size()) > options.memory) pairs.pop_front();
    }
    // At the precision floor of f, Armijo accepts steps that no longer change f: stop after
    // 5 such iterations in a row (reported as "stalled", not converged).
    stalled = f - f_new <= 1e-15 * std::max(1.0, std::abs(f)) ? stalled + 1 : 0;
    x.swap(x_new);
    grad.swap(grad_new);
    f = f_new;
    ++result.iterations;
    if (stalled >= 5) {
      result.grad_max = grad.cwiseAbs().maxCoeff();
      result.stop_reason = "stalled";
      break;
    }
  }
  result.objective = f;
  return result;
}

}  // namespace cfma::probe
