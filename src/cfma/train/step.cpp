#include "cfma/train/step.hpp"

#include <span>

#include "cfma/par/reduce.hpp"

namespace cfma::train {

at::Tensor loss_sum(const at::Tensor& output, const at::Tensor& target, Task task) {
  if (task == Task::family)
    return torch::nn::functional::cross_entropy(
        output, target, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  return torch::mse_loss(output.reshape({-1}), target, at::Reduction::Sum);
}

DataParallelStep::DataParallelStep(nn::Net net, torch::optim::SGD& optimizer, const boost::mpi::communicator& comm,
                                   Task task, double target_sd)
    : net_(std::move(net)), optimizer_(optimizer), comm_(comm), task_(task), target_sd_(target_sd),
      params_(net_->parameters()) {
  for (const auto& p : params_) gradients_ += p.numel();
  flat_ = at::zeros({gradients_ + 5}, at::kFloat);
  if (comm_.size() > 1)
    net_->set_stats_all_reduce([&c = comm_](torch::Tensor sums) {
      auto contiguous = sums.contiguous();
      par::all_reduce_sum(c, std::span<double>(contiguous.data_ptr<double>(), static_cast<std::size_t>(contiguous.numel())));
      if (!contiguous.is_same(sums)) sums.copy_(contiguous);
    });
}

StepSums DataParallelStep::run(const at::Tensor& x, const at::Tensor& y, std::int64_t global_rows, bool stop_requested) {
  optimizer_.zero_grad();
  const auto output = net_->forward(x);
  const auto loss = loss_sum(output, y, task_);
  (loss / static_cast<double>(global_rows)).backward();

  std::int64_t offset = 0;
  for (const auto& p : params_) {
    flat_.narrow(0, offset, p.numel()).copy_(p.grad().reshape({-1}));
    offset += p.numel();
  }
  float* tail = flat_.data_ptr<float>() + gradients_;
  {
    torch::NoGradGuard no_grad;
    const auto detached = output.detach();
    tail[0] = stop_requested ? 1.0f : 0.0f;
    tail[1] = loss.item<float>();
    if (task_ == Task::family) {
      tail[2] = detached.argmax(1).eq(y).sum().item<float>();
      tail[3] = 0.0f;
    } else {
      tail[2] = 0.0f;
      tail[3] = ((detached.reshape({-1}) - y) * target_sd_).pow(2).sum().item<float>();
    }
    tail[4] = static_cast<float>(x.size(0));
  }
  par::all_reduce_sum(comm_, std::span<float>(flat_.data_ptr<float>(), static_cast<std::size_t>(flat_.numel())));
  offset = 0;
  for (auto& p : params_) {
    p.grad().copy_(flat_.narrow(0, offset, p.numel()).view_as(p));
    offset += p.numel();
  }
  optimizer_.step();
  return {tail[1], tail[2], tail[3], tail[4], tail[0] > 0};
}

}  // namespace cfma::train
