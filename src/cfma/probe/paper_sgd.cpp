#include "cfma/probe/paper_sgd.hpp"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "cfma/core/error.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/world.hpp"

namespace cfma::probe {

namespace {

Eigen::RowVectorXd softmax(const Eigen::RowVectorXd& z) {
  const Eigen::RowVectorXd e = (z.array() - z.maxCoeff()).exp();
  return e / e.sum();
}

}  // namespace

PaperSgdModel fit_logistic_paper_sgd(const boost::mpi::communicator& comm, LocalRows& rows,
                                     std::int64_t first_position, std::int64_t total_rows,
                                     std::span<const int> labels, int classes, const PaperSgdOptions& options) {
  const Eigen::Index d = rows.cols(), k = classes;
  if (static_cast<std::int64_t>(labels.size()) != rows.rows())
    throw ProbeError("paper SGD probe: " + std::to_string(labels.size()) + " labels for " +
                     std::to_string(rows.rows()) + " rows");
  // This rank's rows in memory, in train-list order (the batches are ranges of that order).
  RowMatrix x(rows.rows(), d);
  par::all_or_none(comm, [&] {
    rows.for_each_chunk([&](std::int64_t first, const ConstRowBlock& chunk) { x.middleRows(first, chunk.rows()) = chunk; });
  });

  // PyTorch's Linear init under the paper's seed (kaiming-uniform weights, uniform bias).
  Eigen::MatrixXd w(d, k);  // column c = class c's weights
  Eigen::VectorXd b(k);
  {
    torch::manual_seed(options.seed);
    torch::nn::Linear linear(d, k);
    const auto weight = linear->weight.detach().to(torch::kFloat64).contiguous();  // K x D
    const auto bias = linear->bias.detach().to(torch::kFloat64).contiguous();
    w = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            weight.data_ptr<double>(), k, d).transpose();
    b = Eigen::Map<const Eigen::VectorXd>(bias.data_ptr<double>(), k);
  }
  Eigen::MatrixXd w_velocity = Eigen::MatrixXd::Zero(d, k);
  Eigen::VectorXd b_velocity = Eigen::VectorXd::Zero(k);
  // [dW (D x K), db (K), correct]
  Eigen::VectorXd buffer(d * k + k + 1);
  const std::int64_t local_begin = first_position, local_end = first_position + rows.rows();
  double running_correct = 0;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    running_correct = 0;
    for (std::int64_t batch = 0; batch < total_rows; batch += options.batch_size) {
      const std::int64_t batch_end = std::min(total_rows, batch + options.batch_size);
      buffer.setZero();
      Eigen::Map<Eigen::MatrixXd> gw(buffer.data(), d, k);
      Eigen::Map<Eigen::VectorXd> gb(buffer.data() + d * k, k);
      const std::int64_t lo = std::max(batch, local_begin), hi = std::min(batch_end, local_end);
      if (lo < hi) {  // this rank's rows of the batch, as one block
        const auto first = static_cast<Eigen::Index>(lo - local_begin), m = static_cast<Eigen::Index>(hi - lo);
        const auto xb = x.middleRows(first, m);
        Eigen::MatrixXd g = xb * w;
        g.rowwise() += b.transpose();
        for (Eigen::Index i = 0; i < m; ++i) {
          const int y = labels[static_cast<std::size_t>(first + i)];
          Eigen::Index best = 0;
          g.row(i).maxCoeff(&best);
          buffer[d * k + k] += best == y ? 1.0 : 0.0;
          // dL/dz for L = -log softmax(o)_y with o = softmax(z) (double softmax) or o = z.
          const Eigen::RowVectorXd p = softmax(g.row(i));
          if (options.double_softmax) {
            Eigen::RowVectorXd q = softmax(p);
            q[y] -= 1.0;
            g.row(i) = p.array() * (q.array() - p.dot(q));
          } else {
            g.row(i) = p;
            g(i, y) -= 1.0;
          }
        }
        gw.noalias() += xb.transpose() * g;
        gb += g.colwise().sum().transpose();
      }
      par::all_reduce_sum(comm, {buffer.data(), static_cast<std::size_t>(buffer.size())});
      running_correct += buffer[d * k + k];
      const double inv = 1.0 / static_cast<double>(batch_end - batch);  // the batch-mean loss
      // torch.optim.SGD's first buffer is the first gradient: the same as starting from 0.
      w_velocity = options.momentum * w_velocity + gw * inv;
      b_velocity = options.momentum * b_velocity + gb * inv;
      w -= options.learning_rate * w_velocity;
      b -= options.learning_rate * b_velocity;
    }
  }
  PaperSgdModel out;
  out.model.weights = w;
  out.model.intercept = b;
  out.model.solver.iterations = options.epochs;
  out.model.solver.stop_reason = "epochs";
  out.running_train_accuracy = total_rows > 0 ? running_correct / static_cast<double>(total_rows) : 0;
  return out;
}

}  // namespace cfma::probe
