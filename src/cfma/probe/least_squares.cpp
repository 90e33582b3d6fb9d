#include "cfma/probe/least_squares.hpp"

#include <cmath>

#include <Eigen/Cholesky>

#include "cfma/core/error.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/world.hpp"

namespace cfma::probe {

namespace {

void reduce(const boost::mpi::communicator& comm, Eigen::VectorXd& buffer) {
  par::all_reduce_sum(comm, {buffer.data(), static_cast<std::size_t>(buffer.size())});
}

// [n, column sums of Y] over all ranks -> (n, means).
std::pair<double, Eigen::VectorXd> target_means(const boost::mpi::communicator& comm,
                                                const Eigen::MatrixXd& y) {
  Eigen::VectorXd buffer(1 + y.cols());
  buffer[0] = static_cast<double>(y.rows());
  buffer.tail(y.cols()) = y.colwise().sum().transpose();
  reduce(comm, buffer);
  if (buffer[0] == 0) throw ProbeError("least squares: empty split");
  return {buffer[0], buffer.tail(y.cols()) / buffer[0]};
}

void check_shapes(const LocalRows& rows, const Eigen::MatrixXd& targets) {
  if (targets.rows() != rows.rows())
    throw ProbeError("least squares: " + std::to_string(targets.rows()) + " target rows for " +
                     std::to_string(rows.rows()) + " feature rows");
}

LinearModel solve_ldlt(const boost::mpi::communicator& comm, LocalRows& rows, const Eigen::MatrixXd& yc,
                       double n, double ridge) {
  const Eigen::Index d = rows.cols(), t = yc.cols();
  // Flat buffer: X'X (D x D, lower triangle filled), X'1 (D), X'Yc (D x T).
  Eigen::VectorXd buffer = Eigen::VectorXd::Zero(d * d + d + d * t);
  Eigen::Map<Eigen::MatrixXd> gram(buffer.data(), d, d);
  Eigen::Map<Eigen::VectorXd> col_sum(buffer.data() + d * d, d);
  Eigen::Map<Eigen::MatrixXd> xty(buffer.data() + d * d + d, d, t);
  par::all_or_none(comm, [&] {  // a failed read on one rank stops every rank before the reduction
    rows.for_each_chunk([&](std::int64_t first, const ConstRowBlock& x) {
      gram.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
      col_sum += x.colwise().sum().transpose();
      xty.noalias() += x.transpose() * yc.middleRows(first, x.rows());
    });
  });
  reduce(comm, buffer);
  const Eigen::VectorXd mean = col_sum / n;
  Eigen::MatrixXd a = gram.selfadjointView<Eigen::Lower>();
  a.noalias() -= n * mean * mean.transpose();
  a.diagonal().array() += ridge;
  LinearModel model;
  const double scale = std::max(a.diagonal().mean(), 1e-300);
  for (const double jitter : {0.0, 1e-12, 1e-10, 1e-8}) {
    Eigen::MatrixXd aj = a;
    aj.diagonal().array() += jitter * scale;
    Eigen::LDLT<Eigen::MatrixXd> ldlt(aj);
    if (ldlt.info() != Eigen::Success) continue;
    // Solve with pivots below 1e-12 x the largest treated as zero (like lstsq's rcond): the
    // directions a rank-deficient X'X (D >= n, constant columns) does not determine get weight 0
    // instead of amplified rounding noise, which would also make the result depend on P.
    const Eigen::VectorXd pivots = ldlt.vectorD();
    const double cutoff = 1e-12 * pivots.cwiseAbs().maxCoeff();
    Eigen::MatrixXd z = ldlt.transpositionsP() * xty;
    ldlt.matrixL().solveInPlace(z);
    model.rank = 0;
    for (Eigen::Index i = 0; i < d; ++i) {
      if (std::abs(pivots[i]) > cutoff) {
        z.row(i) /= pivots[i];
        ++model.rank;
      } else {
        z.row(i).setZero();
      }
    }
    ldlt.matrixU().solveInPlace(z);
    model.weights = ldlt.transpositionsP().transpose() * z;
    if (model.weights.allFinite()) {
      model.solver = jitter == 0 ? "ldlt" : "ldlt+jitter";
      model.jitter = jitter * scale;
      model.intercept = -model.weights.transpose() * mean;  // ȳ added by the caller
      return model;
    }
  }
  throw ProbeError("least squares: LDLT failed on the " + std::to_string(d) + "-column normal equations");
}

LinearModel solve_cg(const boost::mpi::communicator& comm, LocalRows& rows, const Eigen::MatrixXd& yc,
                     double n, const LeastSquaresOptions& options) {
  const Eigen::Index d = rows.cols(), t = yc.cols();
  // Right-hand side pass: [X'1 (D), X'Yc (D x T)].
  Eigen::VectorXd buffer = Eigen::VectorXd::Zero(d + d * t);
  par::all_or_none(comm, [&] {  // a failed read on one rank stops every rank before the reduction
    rows.for_each_chunk([&](std::int64_t first, const ConstRowBlock& x) {
      buffer.head(d) += x.colwise().sum().transpose();
      Eigen::Map<Eigen::MatrixXd>(buffer.data() + d, d, t).noalias() += x.transpose() * yc.middleRows(first, x.rows());
    });
  });
  reduce(comm, buffer);
  const Eigen::VectorXd mean = buffer.head(d) / n;
  const Eigen::MatrixXd rhs = Eigen::Map<const Eigen::MatrixXd>(buffer.data() + d, d, t);

  // A P = Xc'Xc P + ridge P = X'(X P) - n x̄ (x̄'P) + ridge P
  Eigen::VectorXd product(d * t);
  Eigen::MatrixXd xp;
  auto apply = [&](const Eigen::MatrixXd& p) {
    product.setZero();
    Eigen::Map<Eigen::MatrixXd> acc(product.data(), d, t);
    par::all_or_none(comm, [&] {  // a failed read on one rank stops every rank before the reduction
      rows.for_each_chunk([&](std::int64_t, const ConstRowBlock& x) {
        xp.noalias() = x * p;
        acc.noalias() += x.transpose() * xp;
      });
    });
    reduce(comm, product);
    Eigen::MatrixXd q = acc;
    q.noalias() -= n * mean * (mean.transpose() * p);
    q += options.ridge * p;
    return q;
  };

  LinearModel model;
  model.solver = "cg";
  model.weights = Eigen::MatrixXd::Zero(d, t);
  Eigen::MatrixXd r = rhs, p = rhs;
  Eigen::VectorXd rr = r.colwise().squaredNorm().transpose();
  const Eigen::VectorXd target = options.cg_tol * rhs.colwise().norm().transpose();
  std::vector<bool> done(static_cast<std::size_t>(t));
  auto all_done = [&] {
    bool all = true;
    for (Eigen::Index j = 0; j < t; ++j) {
      done[static_cast<std::size_t>(j)] = done[static_cast<std::size_t>(j)] || std::sqrt(rr[j]) <= target[j];
      all = all && done[static_cast<std::size_t>(j)];
    }
    return all;
  };
  while (!all_done() && model.iterations < options.cg_max_iter) {
    const Eigen::MatrixXd q = apply(p);
    ++model.iterations;
    for (Eigen::Index j = 0; j < t; ++j) {
      if (done[static_cast<std::size_t>(j)]) continue;
      const double curvature = p.col(j).dot(q.col(j));
      if (!(curvature > 0)) {  // exact solution in a singular direction reached
        done[static_cast<std::size_t>(j)] = true;
        continue;
      }
      const double alpha = rr[j] / curvature;
      model.weights.col(j) += alpha * p.col(j);
      r.col(j) -= alpha * q.col(j);
      const double rr_new = r.col(j).squaredNorm();
      p.col(j) = r.col(j) + (rr_new / rr[j]) * p.col(j);
      rr[j] = rr_new;
    }
  }
  model.converged = all_done();
  model.intercept = -model.weights.transpose() * mean;
  return model;
}

}  // namespace

LinearModel fit_least_squares(const boost::mpi::communicator& comm, LocalRows& rows,
                              const Eigen::MatrixXd& targets, const LeastSquaresOptions& options) {
  check_shapes(rows, targets);
  const auto [n, y_mean] = target_means(comm, targets);
  const Eigen::MatrixXd yc = targets.rowwise() - y_mean.transpose();
  LinearModel model = rows.cols() <= options.cholesky_max_dim
                          ? solve_ldlt(comm, rows, yc, n, options.ridge)
                          : solve_cg(comm, rows, yc, n, options);
  model.intercept += y_mean;
  return model;
}

RegressionMetrics evaluate_linear(const boost::mpi::communicator& comm, LocalRows& rows,
                                  const Eigen::MatrixXd& targets, const LinearModel& model,
                                  const std::vector<char>& rows_kept) {
  check_shapes(rows, targets);
  if (!rows_kept.empty()) {  // the kept rows as a LocalRows of their own
    if (static_cast<std::int64_t>(rows_kept.size()) != rows.rows())
      throw ProbeError("least squares: row mask has " + std::to_string(rows_kept.size()) + " entries for " +
                       std::to_string(rows.rows()) + " rows");
    std::vector<std::int64_t> ids;
    std::vector<Eigen::Index> kept;
    for (std::size_t i = 0; i < rows_kept.size(); ++i)
      if (rows_kept[i]) {
        ids.push_back(rows.row_ids()[i]);
        kept.push_back(static_cast<Eigen::Index>(i));
      }
    RowMatrix x(static_cast<Eigen::Index>(kept.size()), rows.cols());
    Eigen::MatrixXd y(static_cast<Eigen::Index>(kept.size()), targets.cols());
    std::size_t next = 0;
    par::all_or_none(comm, [&] {
      rows.for_each_chunk([&](std::int64_t first, const ConstRowBlock& chunk) {
        for (; next < kept.size() && kept[next] < first + chunk.rows(); ++next) {
          x.row(static_cast<Eigen::Index>(next)) = chunk.row(kept[next] - first);
          y.row(static_cast<Eigen::Index>(next)) = targets.row(kept[next]);
        }
      });
    });
    LocalRows subset(rows.name(), std::move(x), std::move(ids), 1 << 20);
    return evaluate_linear(comm, subset, y, model);
  }
  if (model.weights.rows() != rows.cols())
    throw ProbeError("least squares: model has " + std::to_string(model.weights.rows()) +
                     " features, rows have " + std::to_string(rows.cols()));
  const Eigen::Index t = targets.cols();
  const auto [n, y_mean] = target_means(comm, targets);
  // [SSE (T), SST (T)]
  Eigen::VectorXd buffer = Eigen::VectorXd::Zero(2 * t);
  buffer.tail(t) = (targets.rowwise() - y_mean.transpose()).colwise().squaredNorm().transpose();
  Eigen::MatrixXd residual;
  par::all_or_none(comm, [&] {  // a failed read on one rank stops every rank before the reduction
    rows.for_each_chunk([&](std::int64_t first, const ConstRowBlock& x) {
      residual.noalias() = x * model.weights;
      residual.rowwise() += model.intercept.transpose();
      residual -= targets.middleRows(first, x.rows());
      buffer.head(t) += residual.colwise().squaredNorm().transpose();
    });
  });
  reduce(comm, buffer);
  RegressionMetrics metrics;
  metrics.rmse = (buffer.head(t) / n).cwiseSqrt();
  metrics.r2.resize(t);
  for (Eigen::Index j = 0; j < t; ++j)
    metrics.r2[j] = buffer[t + j] > 0 ? 1.0 - buffer[j] / buffer[t + j] : (buffer[j] == 0 ? 1.0 : 0.0);
  return metrics;
}

}  // namespace cfma::probe
