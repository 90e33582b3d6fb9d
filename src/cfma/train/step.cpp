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
  replicated_ = net_->replicated_parameters();
  for (const auto& p : replicated_) replicated_elements_ += p.numel();
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

StepSums DataParallelStep::run_micro(const at::Tensor& x, const at::Tensor& y, std::int64_t global_rows,
                                     const MicroBatchPlan& plan, bool stop_requested) {
  optimizer_.zero_grad();
  const auto sizes = plan.local_rows;
  const std::vector<at::Tensor> xs = sizes.empty() ? std::vector<at::Tensor>{} : x.split_with_sizes(sizes);
  const std::vector<at::Tensor> ys = sizes.empty() ? std::vector<at::Tensor>{} : y.split_with_sizes(sizes);
  // BatchNorm: per-micro-batch partial sums [k, 2C+1] of every rank, added in micro-batch order.
  const auto& per_rank = plan.micro_per_rank;
  const nn::MicroBatchReduce reduce = [&](const at::Tensor& partial) {
    const auto contiguous = partial.contiguous();
    const auto width = static_cast<std::size_t>(contiguous.size(1));
    const auto total = par::all_ordered_row_sum(
        comm_, std::span<const double>(contiguous.data_ptr<double>(), static_cast<std::size_t>(contiguous.numel())),
        width, per_rank);
    return at::tensor(total, at::kDouble);
  };
  auto pass = net_->forward_micro_batches(xs, reduce);
  // The loss of each micro-batch apart: its gradient reaches only its own parameter copies.
  std::vector<at::Tensor> losses;
  at::Tensor total;
  if (xs.empty()) {
    total = loss_sum(pass.outputs.front(), y.narrow(0, 0, 0), task_);
  } else {
    for (std::size_t j = 0; j < xs.size(); ++j) {
      losses.push_back(loss_sum(pass.outputs[j], ys[j], task_));
      total = j == 0 ? losses.back() / static_cast<double>(global_rows) : total + losses.back() / static_cast<double>(global_rows);
    }
  }
  total.backward();

  // This rank's rows [gradient of the replicated parameters | loss | correct | sq error | rows],
  // then its stop vote.
  const std::int64_t width = replicated_elements_ + 4;
  std::vector<float> local(static_cast<std::size_t>(static_cast<std::int64_t>(xs.size()) * width + 1), 0.0f);
  {
    torch::NoGradGuard no_grad;
    for (std::size_t j = 0; j < xs.size(); ++j) {
      float* row = local.data() + static_cast<std::int64_t>(j) * width;
      std::int64_t offset = 0;
      for (const auto& copy : pass.copies[j]) {
        const auto n = copy.numel();
        if (copy.grad().defined()) {
          const auto g = copy.grad().contiguous();
          std::copy(g.data_ptr<float>(), g.data_ptr<float>() + n, row + offset);
        }
        offset += n;
      }
      const auto out = pass.outputs[j].detach();
      row[offset] = losses[j].item<float>();
      if (task_ == Task::family) row[offset + 1] = out.argmax(1).eq(ys[j]).sum().item<float>();
      else row[offset + 2] = ((out.reshape({-1}) - ys[j]) * target_sd_).pow(2).sum().item<float>();
      row[offset + 3] = static_cast<float>(xs[j].size(0));
    }
    local.back() = stop_requested ? 1.0f : 0.0f;
  }
  std::vector<int> counts;
  for (const auto k : per_rank) counts.push_back(static_cast<int>(k * width + 1));
  const auto all = par::all_gather_varying(comm_, std::span<const float>(local), counts);
  // The rows in micro-batch order (rank order), each rank's stop vote after its rows.
  std::vector<double> sum(static_cast<std::size_t>(width), 0.0);
  bool stop = false;
  std::size_t at = 0;
  for (const auto k : per_rank) {
    for (std::int64_t j = 0; j < k; ++j, at += static_cast<std::size_t>(width))
      for (std::int64_t e = 0; e < width; ++e) sum[static_cast<std::size_t>(e)] += static_cast<double>(all[at + static_cast<std::size_t>(e)]);
    stop = stop || all[at] > 0;
    ++at;
  }
  {
    torch::NoGradGuard no_grad;
    std::int64_t offset = 0;
    for (auto& p : replicated_) {
      auto g = at::empty_like(p);
      float* gp = g.data_ptr<float>();
      for (std::int64_t e = 0; e < p.numel(); ++e) gp[e] = static_cast<float>(sum[static_cast<std::size_t>(offset + e)]);
      p.mutable_grad() = g;
      offset += p.numel();
    }
  }
  // BatchNorm's parameters hold the global batch's gradient already (batch_norm.hpp).
  optimizer_.step();
  const auto tail = sum.data() + replicated_elements_;
  return {tail[0], tail[1], tail[2], tail[3], stop};
}

}  // namespace cfma::train
