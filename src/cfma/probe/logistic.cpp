#include "cfma/probe/logistic.hpp"

#include <algorithm>
#include <cmath>

#include "cfma/core/error.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/world.hpp"
#include "cfma/probe/newton_cg.hpp"

namespace cfma::probe {

namespace {

// Rows per compute block: a block of X (block x D doubles) is read for the logits and again
// for the gradient, so keep it cache-resident.
std::int64_t compute_block_rows(std::int64_t cols) {
  return std::clamp<std::int64_t>((256 * 1024) / (8 * std::max<std::int64_t>(cols, 1)), 8, 512);
}

// `unseen_allowed`: evaluation rows may carry kUnseenClass.
void check_labels(std::span<const int> labels, const LocalRows& rows, int classes, bool unseen_allowed) {
  if (static_cast<std::int64_t>(labels.size()) != rows.rows())
    throw ProbeError("logistic probe: " + std::to_string(labels.size()) + " labels for " +
                     std::to_string(rows.rows()) + " rows");
  for (const int y : labels)
    if ((y < 0 || y >= classes) && !(unseen_allowed && y == kUnseenClass))
      throw ProbeError("logistic probe: label " + std::to_string(y) + " outside [0, " + std::to_string(classes) + ")");
}

// theta = [W (D x K, column-major), b (K)] as a model. The gradient's intercept part sums to 0
// over the classes, so b stays in that subspace up to rounding; re-centring removes the
// rounding (softmax ignores a common shift).
LogisticModel model_of(const Eigen::VectorXd& theta, Eigen::Index d, Eigen::Index k, const LbfgsResult& solver) {
  LogisticModel model;
  model.solver = solver;
  model.weights = Eigen::Map<const Eigen::MatrixXd>(theta.data(), d, k);
  model.intercept = theta.tail(k).array() - theta.tail(k).mean();
  return model;
}

}  // namespace

LogisticModel fit_logistic(const boost::mpi::communicator& comm, LocalRows& rows,
                           std::span<const int> labels, int classes, double C,
                           const LbfgsOptions& options, bool precondition, LogisticSolver solver) {
  par::all_or_none(comm, [&] { check_labels(labels, rows, classes, false); });
  const Eigen::Index d = rows.cols(), k = classes;
  const double n = static_cast<double>(par::all_reduce_sum(comm, rows.rows()));
  if (n == 0) throw ProbeError("logistic probe: no training rows");
  const std::int64_t block = compute_block_rows(d);
  Eigen::VectorXd buffer(1 + d * k + k);
  Eigen::MatrixXd z, gz;
  Eigen::MatrixXd probs(rows.rows(), k);  // softmax of the local rows at the last evaluated point

  const Objective objective = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    const Eigen::Map<const Eigen::MatrixXd> w(theta.data(), d, k);
    const Eigen::Map<const Eigen::VectorXd> b(theta.data() + d * k, k);
    buffer.setZero();
    Eigen::Map<Eigen::MatrixXd> gw(buffer.data() + 1, d, k);
    Eigen::Map<Eigen::VectorXd> gb(buffer.data() + 1 + d * k, k);
    double loss = 0;
    par::all_or_none(comm, [&] {  // a failed read on one rank stops every rank before the reduction
      rows.for_each_chunk([&](std::int64_t first, const ConstRowBlock& x) {
        for (std::int64_t r0 = 0; r0 < x.rows(); r0 += block) {
          const std::int64_t m = std::min(block, x.rows() - r0);
          const Eigen::Index width = rows.extent_of(first + r0, m);  // beyond it the rows are 0
          const auto xb = x.middleRows(r0, m).leftCols(width);
          z.noalias() = xb * w.topRows(width);
          z.rowwise() += b.transpose();
          for (Eigen::Index i = 0; i < m; ++i) {
            const int y = labels[static_cast<std::size_t>(first + r0 + i)];
            const double zmax = z.row(i).maxCoeff();
            const double zy = z(i, y);
            double s = 0;
            for (Eigen::Index c = 0; c < k; ++c) s += (z(i, c) = std::exp(z(i, c) - zmax));
            loss += zmax + std::log(s) - zy;
            z.row(i) /= s;
            probs.row(first + r0 + i) = z.row(i);  // the Newton solver's Hessian needs them
            z(i, y) -= 1.0;  // softmax - onehot
          }
          gw.topRows(width).noalias() += xb.transpose() * z;
          gb += z.colwise().sum().transpose();
        }
      });
    });
    buffer[0] = loss;
    par::all_reduce_sum(comm, {buffer.data(), static_cast<std::size_t>(buffer.size())});
    const double penalty = 0.5 / C * w.squaredNorm();
    grad.head(d * k) = (buffer.segment(1, d * k) + Eigen::Map<const Eigen::VectorXd>(theta.data(), d * k) / C) / n;
    grad.tail(k) = buffer.tail(k) / n;
    return (buffer[0] + penalty) / n;
  };

  if (solver == LogisticSolver::newton_cg) {
    // (1/n) [sum_i x_i' (p_i .* u_i - p_i (p_i' u_i)) + V/C], u_i = x_i V + c: the Hessian of the
    // mean objective at the last evaluated point times v = [V (D x K), c (K)].
    Eigen::VectorXd hv_buffer(d * k + k);
    Eigen::MatrixXd u;
    const HessianProduct hessian_times = [&](const Eigen::VectorXd& v, Eigen::VectorXd& out) {
      const Eigen::Map<const Eigen::MatrixXd> vw(v.data(), d, k);
      const Eigen::Map<const Eigen::VectorXd> vb(v.data() + d * k, k);
      hv_buffer.setZero();
      Eigen::Map<Eigen::MatrixXd> hw(hv_buffer.data(), d, k);
      Eigen::Map<Eigen::VectorXd> hb(hv_buffer.data() + d * k, k);
      par::all_or_none(comm, [&] {
        rows.for_each_chunk([&](std::int64_t first, const ConstRowBlock& x) {
          for (std::int64_t r0 = 0; r0 < x.rows(); r0 += block) {
            const std::int64_t m = std::min(block, x.rows() - r0);
            const Eigen::Index width = rows.extent_of(first + r0, m);
            const auto xb = x.middleRows(r0, m).leftCols(width);
            u.noalias() = xb * vw.topRows(width);
            u.rowwise() += vb.transpose();
            for (Eigen::Index i = 0; i < m; ++i) {
              const auto p = probs.row(first + r0 + i);
              const double pu = p.dot(u.row(i));
              u.row(i) = p.cwiseProduct(u.row(i)) - pu * p;
            }
            hw.topRows(width).noalias() += xb.transpose() * u;
            hb += u.colwise().sum().transpose();
          }
        });
      });
      par::all_reduce_sum(comm, {hv_buffer.data(), static_cast<std::size_t>(hv_buffer.size())});
      out.head(d * k) = (hv_buffer.head(d * k) + Eigen::Map<const Eigen::VectorXd>(v.data(), d * k) / C) / n;
      out.tail(k) = hv_buffer.tail(k) / n;
    };
    // The Hessian's diagonal (the CG preconditioner): (1/n)[sum_i x_ij^2 p_ic (1 - p_ic) + 1/C].
    const HessianProduct hessian_diagonal = [&](const Eigen::VectorXd&, Eigen::VectorXd& out) {
      hv_buffer.setZero();
      Eigen::Map<Eigen::MatrixXd> dw(hv_buffer.data(), d, k);
      Eigen::Map<Eigen::VectorXd> db(hv_buffer.data() + d * k, k);
      par::all_or_none(comm, [&] {
        rows.for_each_chunk([&](std::int64_t first, const ConstRowBlock& x) {
          const auto p = probs.middleRows(first, x.rows());
          const Eigen::MatrixXd q = p.array() * (1.0 - p.array());
          dw.noalias() += x.array().square().matrix().transpose() * q;
          db += q.colwise().sum().transpose();
        });
      });
      par::all_reduce_sum(comm, {hv_buffer.data(), static_cast<std::size_t>(hv_buffer.size())});
      out.head(d * k) = (hv_buffer.head(d * k).array() + 1.0 / C) / n;
      out.tail(k) = hv_buffer.tail(k) / n;
    };
    Eigen::VectorXd theta = Eigen::VectorXd::Zero(d * k + k);
    const auto result = minimise_newton_cg(objective, hessian_times, hessian_diagonal, theta, options);
    return model_of(theta, d, k, result);
  }

  LbfgsOptions solver_options = options;
  if (precondition) {
    // Curvature of the mean objective along W_jc: about s * mean_i x_ij^2 + 1/(nC), with s =
    // 1/K the softmax curvature at the start (p = 1/K); along b_c: s. Standardised columns
    // (primal path) make this uniform; row-space columns carry the Gram's scales, which span
    // decades (on a conv1-like set: 100 instead of 300 L-BFGS iterations, bench/README.md).
    Eigen::VectorXd mean_square = Eigen::VectorXd::Zero(d);
    par::all_or_none(comm, [&] {
      rows.for_each_chunk([&](std::int64_t, const ConstRowBlock& x) {
        mean_square += x.array().square().colwise().sum().matrix().transpose();
      });
    });
    par::all_reduce_sum(comm, {mean_square.data(), static_cast<std::size_t>(d)});
    const double s = 1.0 / static_cast<double>(k);
    solver_options.preconditioner.resize(d * k + k);
    for (Eigen::Index c = 0; c < k; ++c)
      solver_options.preconditioner.segment(c * d, d) = (s * mean_square.array() / n + 1.0 / (n * C)).inverse().matrix();
    solver_options.preconditioner.tail(k).setConstant(1.0 / s);
  }
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(d * k + k);
  const auto result = minimise_lbfgs(objective, theta, solver_options);
  return model_of(theta, d, k, result);
}

ClassificationMetrics evaluate_logistic(const boost::mpi::communicator& comm, LocalRows& rows,
                                        std::span<const int> labels, const LogisticModel& model) {
  const int classes = static_cast<int>(model.weights.cols());
  check_labels(labels, rows, classes, true);
  if (model.weights.rows() != rows.cols())
    throw ProbeError("logistic probe: model has " + std::to_string(model.weights.rows()) +
                     " features, rows have " + std::to_string(rows.cols()));
  double sums[4] = {0, 0, 0, 0};  // correct, log-loss, rows, rows of a class seen in training
  Eigen::MatrixXd z;
  par::all_or_none(comm, [&] {  // a failed read on one rank stops every rank before the reduction
    rows.for_each_chunk([&](std::int64_t first, const ConstRowBlock& x) {
      z.noalias() = x * model.weights;
      z.rowwise() += model.intercept.transpose();
      for (Eigen::Index i = 0; i < z.rows(); ++i) {
        const int y = labels[static_cast<std::size_t>(first + i)];
        Eigen::Index best = 0;
        const double zmax = z.row(i).maxCoeff(&best);
        if (y == kUnseenClass) continue;  // never predicted: wrong, and no log-loss
        sums[0] += best == y ? 1.0 : 0.0;
        sums[1] += zmax + std::log((z.row(i).array() - zmax).exp().sum()) - z(i, y);
        sums[3] += 1.0;
      }
      sums[2] += static_cast<double>(x.rows());
    });
  });
  par::all_reduce_sum(comm, std::span<double>(sums, 4));
  if (sums[2] == 0) throw ProbeError("logistic probe: no rows to evaluate");
  return {sums[0] / sums[2], sums[3] > 0 ? sums[1] / sums[3] : std::nan("")};
}

}  // namespace cfma::probe
