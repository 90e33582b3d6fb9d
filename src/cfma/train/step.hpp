#pragma once
// One data-parallel optimisation step, the heart of the trainer (and what bench_training
// times): forward of this rank's slice (BatchNorm statistics all-reduced across ranks) -> loss
// summed over the slice and divided by the GLOBAL batch size -> backward -> ONE all-reduce of a
// flat float32 buffer -> SGD step. The buffer holds, in order:
//   [ every parameter's gradient, flattened | stop flag | loss sum | correct | squared error | rows ]
// so the gradients, the "stop after this step" vote of every rank (SIGTERM/SIGUSR1) and the
// step's metrics travel together: one collective per step besides the BatchNorm statistics.
// Memory: one buffer of (parameters + 5) floats, allocated once.
//
// Micro-batch mode (run_micro, train.micro_batch > 0), bit-identical for any number of ranks:
// the rank's rows are consecutive micro-batches of the global batch (batches.hpp,
// MicroBatchPlan). Each goes through the conv and linear layers on its own with its own copy of
// their parameters (nn::NetImpl::forward_micro_batches), so each micro-batch's gradient is
// computed the same way whichever rank owns it; BatchNorm statistics and their gradient sums
// are kept per micro-batch and added in micro-batch order. One all-gather per step then brings
// every micro-batch's row [ its replicated-parameter gradient | loss | correct | squared error
// | rows ] (and each rank's stop vote) to every rank, and every rank adds the rows in
// micro-batch order in float64. Cost: the all-gather moves (micro-batches x parameters) floats
// instead of one all-reduce of the parameters, and the layers run on smaller pieces.
#include <cstdint>
#include <vector>

#include <boost/mpi/communicator.hpp>
#include <torch/torch.h>

#include "cfma/nn/architectures.hpp"
#include "cfma/train/batches.hpp"
#include "cfma/train/train_config.hpp"

namespace cfma::train {

// Sums over the global batch (all ranks).
struct StepSums {
  double loss = 0;      // per-example losses (standardised units for regression)
  double correct = 0;   // family: correctly classified rows
  double sq_error = 0;  // regression: squared error in original units
  double rows = 0;
  bool stop = false;    // some rank was asked to stop
};

// Per-example loss summed over a batch: cross-entropy (family) or squared error of the
// standardised target (pitch, velocity; output [B, 1]).
at::Tensor loss_sum(const at::Tensor& output, const at::Tensor& target, Task task);

class DataParallelStep {
 public:
  // `target_sd` converts regression errors to original units. Installs the BatchNorm statistics
  // all-reduce on `net` when comm has more than one rank.
  DataParallelStep(nn::Net net, torch::optim::SGD& optimizer, const boost::mpi::communicator& comm, Task task,
                   double target_sd = 1.0);
  // x, y: this rank's slice; global_rows: rows of the whole global batch.
  StepSums run(const at::Tensor& x, const at::Tensor& y, std::int64_t global_rows, bool stop_requested = false);
  // Micro-batch mode: x, y hold this rank's rows plan.row_begin..row_end of the global batch.
  StepSums run_micro(const at::Tensor& x, const at::Tensor& y, std::int64_t global_rows, const MicroBatchPlan& plan,
                     bool stop_requested = false);

 private:
  nn::Net net_;
  torch::optim::SGD& optimizer_;
  const boost::mpi::communicator& comm_;
  Task task_;
  double target_sd_;
  std::vector<at::Tensor> params_;
  at::Tensor flat_;
  std::int64_t gradients_ = 0;  // elements before the stop flag
  // Micro-batch mode: the conv / linear parameters (copied per micro-batch) and their size,
  // and the BatchNorm parameters (their gradients arrive global).
  std::vector<at::Tensor> replicated_;
  std::int64_t replicated_elements_ = 0;
};

}  // namespace cfma::train
