#include "cfma/probe/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

#include "cfma/core/error.hpp"

namespace cfma::probe {

namespace {

constexpr double c1 = 1e-4;  // sufficient decrease
constexpr double c2 = 0.9;   // curvature (strong Wolfe), the usual quasi-Newton choice

// One point on the line x + step * direction.
struct LinePoint {
  double step = 0, f = 0, slope = 0;  // slope = g(x + step d)' d
};

// Evaluates the objective along the line; keeps the last point's x and gradient.
class Line {
 public:
  Line(const Objective& objective, const Eigen::VectorXd& x, const Eigen::VectorXd& direction, int& evaluations)
      : objective_(objective), x_(x), direction_(direction), evaluations_(evaluations) {}

  LinePoint at(double step) {
    x_new = x_ + step * direction_;
    grad_new.resize(x_.size());
    const double f = objective_(x_new, grad_new);
    ++evaluations_;
    f_new = std::isfinite(f) ? f : std::numeric_limits<double>::infinity();
    return {step, f_new, grad_new.dot(direction_)};
  }

  Eigen::VectorXd x_new, grad_new;  // of the last evaluated point
  double f_new = 0;

 private:
  const Objective& objective_;
  const Eigen::VectorXd& x_;
  const Eigen::VectorXd& direction_;
  int& evaluations_;
};

// Minimiser of the cubic through (a, f_a, slope_a) and (b, f_b, slope_b), safeguarded to
// the middle 80 % of the interval (bisection when the cubic has no usable minimum).
double cubic_step(const LinePoint& a, const LinePoint& b) {
  const double lo = std::min(a.step, b.step), hi = std::max(a.step, b.step);
  const double margin = 0.1 * (hi - lo);
  const double mid = 0.5 * (lo + hi);
  if (!std::isfinite(a.f) || !std::isfinite(b.f)) return mid;
  const double d1 = a.slope + b.slope - 3 * (a.f - b.f) / (a.step - b.step);
  const double disc = d1 * d1 - a.slope * b.slope;
  if (!(disc >= 0)) return mid;
  const double d2 = std::copysign(std::sqrt(disc), b.step - a.step);
  const double denom = b.slope - a.slope + 2 * d2;
  if (denom == 0) return mid;
  const double t = b.step - (b.step - a.step) * (b.slope + d2 - d1) / denom;
  if (!std::isfinite(t) || t < lo + margin || t > hi - margin) return mid;
  return t;
}

// N&W Alg. 3.6: `lo` satisfies sufficient decrease and has the lower f of the two ends.
bool zoom(Line& line, const LinePoint& start, LinePoint lo, LinePoint hi, int budget) {
  for (int i = 0; i < budget; ++i) {
    const double step = cubic_step(lo, hi);
    if (step == lo.step || step == hi.step) return false;  // interval below double resolution
    const LinePoint p = line.at(step);
    if (p.f > start.f + c1 * step * start.slope || p.f >= lo.f) {
      hi = p;
    } else {
      if (std::abs(p.slope) <= -c2 * start.slope) return true;
      if (p.slope * (hi.step - lo.step) >= 0) hi = lo;
      lo = p;
    }
  }
  // Out of evaluations: accept the best point seen if it decreased f enough (lo always does).
  if (lo.step > 0) {
    line.at(lo.step);  // its x and gradient become the line's last point
    return true;
  }
  return false;
}

// N&W Alg. 3.5 from `step`; on success the line's last point is the accepted one.
bool strong_wolfe(Line& line, const LinePoint& start, double step, int budget) {
  LinePoint previous = start;
  for (int i = 0; i < budget; ++i) {
    const LinePoint p = line.at(step);
    const int left = budget - i - 1;
    if (p.f > start.f + c1 * step * start.slope || (i > 0 && p.f >= previous.f))
      return zoom(line, start, previous, p, left);
    if (std::abs(p.slope) <= -c2 * start.slope) return true;
    if (p.slope >= 0) return zoom(line, start, p, previous, left);
    previous = p;
    step *= 2;  // still descending steeply: extrapolate
  }
  return false;
}

bool armijo(Line& line, const LinePoint& start, double step, int budget) {
  for (int i = 0; i < budget; ++i, step *= 0.5)
    if (line.at(step).f <= start.f + c1 * step * start.slope) return true;
  return false;
}

}  // namespace

LineSearch parse_line_search(const std::string& name) {
  if (name == "strong_wolfe") return LineSearch::strong_wolfe;
  if (name == "armijo") return LineSearch::armijo;
  throw ConfigError("unknown line search '" + name + "' (strong_wolfe, armijo)");
}

std::string to_string(LineSearch search) { return search == LineSearch::armijo ? "armijo" : "strong_wolfe"; }

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
  Eigen::VectorXd direction(x.size());
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
    // Two-loop recursion: direction = -H g, with H0 = (s'y / y'D y) D (D: the preconditioner,
    // or the identity).
    const bool diagonal = options.preconditioner.size() == x.size();
    direction = -grad;
    for (std::size_t i = pairs.size(); i-- > 0;) {
      alpha[i] = pairs[i].rho * pairs[i].s.dot(direction);
      direction.noalias() -= alpha[i] * pairs[i].y;
    }
    if (diagonal) direction.array() *= options.preconditioner.array();
    if (!pairs.empty()) {
      const auto& y = pairs.back().y;
      const double yhy = diagonal ? (y.array().square() * options.preconditioner.array()).sum() : y.squaredNorm();
      direction *= 1.0 / (pairs.back().rho * yhy);
    }
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const double beta = pairs[i].rho * pairs[i].y.dot(direction);
      direction.noalias() += (alpha[i] - beta) * pairs[i].s;
    }
    double slope = grad.dot(direction);
    if (!(slope < 0)) {  // not a descent direction (numerical trouble): restart with -D g
      pairs.clear();
      direction = -grad;
      if (diagonal) direction.array() *= options.preconditioner.array();
      slope = grad.dot(direction);
    }
    // First step of a fresh start: scale so that the step has unit length.
    const double step = pairs.empty() ? std::min(1.0, 1.0 / std::sqrt(-slope)) : 1.0;
    Line line(objective, x, direction, result.evaluations);
    const LinePoint start{0, f, slope};
    // At the precision floor of f the curvature test sees rounding noise and strong Wolfe
    // can fail; backtracking then still finds a step that does not increase f, and the
    // "stalled" test below ends the iteration.
    const bool accepted = (options.line_search == LineSearch::strong_wolfe &&
                           strong_wolfe(line, start, step, options.max_line_search)) ||
                          armijo(line, start, step, options.max_line_search);
    if (!accepted) {
      result.stop_reason = "line_search";
      break;
    }
    const double f_new = line.f_new;
    Pair pair{line.x_new - x, line.grad_new - grad, 0.0};
    const double sy = pair.s.dot(pair.y);
    if (sy > 1e-12 * pair.s.norm() * pair.y.norm()) {  // keep H positive definite
      pair.rho = 1.0 / sy;
      pairs.push_back(std::move(pair));
      if (static_cast<int>(pairs.size()) > options.memory) pairs.pop_front();
    }
    // At the precision floor of f, a line search accepts steps that no longer change f:
    // stop after 5 such iterations in a row (reported as "stalled", not converged).
    stalled = f - f_new <= 1e-15 * std::max(1.0, std::abs(f)) ? stalled + 1 : 0;
    x.swap(line.x_new);
    grad.swap(line.grad_new);
    f = f_new;
    ++result.iterations;
    if (stalled >= 5) {
      result.grad_max = grad.cwiseAbs().maxCoeff();
      result.converged = result.grad_max <= options.tol;  // the last steps may have got there
      result.stop_reason = result.converged ? "tol" : "stalled";
      break;
    }
  }
  result.objective = f;
  return result;
}

}  // namespace cfma::probe
