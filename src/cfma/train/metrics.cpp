#include "cfma/train/metrics.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>

#include <ATen/ATen.h>

#include "cfma/par/reduce.hpp"

namespace cfma::train {

std::string History::csv(Task task) const {
  std::string header = task == Task::family
                           ? "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n"
                           : "epoch,train_loss,train_rmse,test_loss,test_rmse,seconds\n";
  for (const auto& r : rows) header += r + "\n";
  return header;
}

void accumulate(EpochSums& sums, const at::Tensor& output, const at::Tensor& target, double loss,
                Task task, double target_sd, std::vector<double>* confusion, int classes) {
  const auto n = output.size(0);
  sums.loss += loss;
  sums.count += static_cast<double>(n);
  if (task == Task::family) {
    const auto predicted = output.argmax(1);
    sums.correct += predicted.eq(target).sum().item<double>();
    if (confusion) {
      const auto* p = predicted.data_ptr<std::int64_t>();
      const auto* t = target.data_ptr<std::int64_t>();
      for (std::int64_t i = 0; i < n; ++i) (*confusion)[static_cast<std::size_t>(t[i] * classes + p[i])] += 1;
    }
  } else {
    const auto diff = (output.reshape({-1}) - target) * target_sd;
    sums.sq_error += diff.pow(2).sum().item<double>();
  }
}

double metric(const EpochSums& s, Task task) {
  if (s.count == 0) return 0;
  return task == Task::family ? 100.0 * s.correct / s.count : std::sqrt(s.sq_error / s.count);
}

double mean_loss(const EpochSums& s) { return s.loss / std::max(s.count, 1.0); }

void reduce_sums(EpochSums& s, const boost::mpi::communicator& comm) {
  std::array<double, 4> v{s.loss, s.correct, s.sq_error, s.count};
  par::all_reduce_sum(comm, std::span<double>(v));
  s = {v[0], v[1], v[2], v[3]};
}

}  // namespace cfma::train
