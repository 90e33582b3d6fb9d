#pragma once
// BatchNorm whose batch statistics can be summed across MPI ranks, optionally fused with the
// ReLU and max-pool that follow it in every cfma CNN block (one pass over the conv output
// instead of four, which is where a CPU training step of these nets spends its time).
//
// Semantics = torch::nn::BatchNorm2d/1d (eps 1e-5, momentum 0.1, affine, running statistics
// with the unbiased batch variance, eval mode uses the running statistics), then ReLU, then
// MaxPool2d(kernel = stride = pool, no padding, floor mode).
//
// Cross-rank synchronisation (the trainer's SyncBatchNorm): with a StatsAllReduce callback
// set, the forward pass packs [sum_c (C) | sum of squares_c (C) | count (1)] of the local
// batch into a float64 tensor and calls the callback, which must sum it over ranks in place
// (MPI_Allreduce, MPI_SUM). Mean and variance are then those of the global batch.
// Gradient: every rank's loss L_r uses the same global statistics, so dL_r/d(stats) reaches
// every rank's inputs. The backward pass therefore packs the local [sum dL/dz | sum dL/dz *
// xhat | 0] and all-reduces it through the same callback (the adjoint of a sum-all-reduce is a
// sum-all-reduce), exactly as PyTorch's SyncBatchNorm does. Each rank's input gradient then
// equals d(sum_r L_r)/dx for its own rows, and its gamma/beta gradients are its local
// contributions; after the trainer all-reduces the parameter gradients and divides by P, the
// result is the gradient of the mean loss (1/P) sum_r L_r of the global batch: identical to one
// process running the whole global batch (tests/nn/test_batch_norm.cpp checks this with two
// simulated ranks).
#include <cstdint>
#include <functional>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace cfma::nn {

// Sums a [2C+1] float64 tensor over all ranks, in place. Called once per BN layer in forward
// and once in backward (training mode only), in the same order on every rank.
using StatsAllReduce = std::function<void(torch::Tensor sums)>;

// Deterministic data parallelism (train/step.hpp): the batch is a sequence of micro-batches of
// `rows[j]` rows each, in order, and `reduce` turns their partial sums [k, 2C+1] (each summed
// from zero over its own rows) into the global batch's total [2C+1] by adding every rank's
// micro-batches in global order. Statistics and gradient sums then have the same bits however
// the micro-batches are spread over ranks, and gamma/beta's gradients are the global batch's
// (identical on every rank: the trainer does not sum them again).
using MicroBatchReduce = std::function<torch::Tensor(const torch::Tensor& per_micro_batch)>;
struct MicroBatches {
  std::vector<std::int64_t> rows;
  MicroBatchReduce reduce;
};

struct PoolSize {
  std::int64_t h = 1;
  std::int64_t w = 1;
  bool none() const { return h == 1 && w == 1; }
};

struct BatchNormOptions {
  bool training = true;
  double momentum = 0.1;
  double eps = 1e-5;
  bool relu = false;
  PoolSize pool;                   // 1x1: no pooling
  const StatsAllReduce* all_reduce = nullptr;  // null or empty: local batch statistics
  const MicroBatches* micro = nullptr;         // set (training): micro-batch statistics, above
};

// x: [B, C, H, W] or [B, C]; weight, bias, running_mean, running_var: [C]. Updates the
// running statistics in place when training. Differentiable in x, weight and bias.
torch::Tensor batch_norm_relu_pool(const torch::Tensor& x, const torch::Tensor& weight,
                                   const torch::Tensor& bias, const torch::Tensor& running_mean,
                                   const torch::Tensor& running_var,
                                   const BatchNormOptions& options);

// Registered names mirror torch::nn::BatchNorm2d: weight, bias (parameters), running_mean,
// running_var, num_batches_tracked (buffers), so state dicts line up with PyTorch's.
class SyncBatchNormImpl : public torch::nn::Module {
 public:
  explicit SyncBatchNormImpl(std::int64_t num_features, double eps = 1e-5,
                             double momentum = 0.1);

  // Plain BatchNorm (2d for 4-D input, 1d for 2-D input).
  torch::Tensor forward(const torch::Tensor& x);
  // BatchNorm, then ReLU if `relu`, then max-pool by `pool` (1x1: none), fused.
  torch::Tensor forward_fused(const torch::Tensor& x, bool relu, PoolSize pool,
                              const MicroBatches* micro = nullptr);

  // Empty function: per-rank (local) statistics.
  void set_all_reduce(StatsAllReduce all_reduce) { all_reduce_ = std::move(all_reduce); }

  std::int64_t num_features() const { return num_features_; }

  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  std::int64_t num_features_;
  double eps_;
  double momentum_;
  StatsAllReduce all_reduce_;
};
TORCH_MODULE(SyncBatchNorm);

}  // namespace cfma::nn
