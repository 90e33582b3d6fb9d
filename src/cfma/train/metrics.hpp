#pragma once
// Per-epoch metrics of a training run and the rows of history.csv.
//   EpochSums: running sums of a pass (train or test), summed over ranks before use.
//   metric():  accuracy in % (family) or RMSE in original units (pitch, velocity).
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/Tensor.h>
#include <boost/mpi/communicator.hpp>

#include "cfma/train/train_config.hpp"

namespace cfma::train {

struct EpochSums {  // running metrics of a pass, summed over ranks
  double loss = 0;      // sum of per-example losses (standardised units for regression)
  double correct = 0;   // family
  double sq_error = 0;  // regression, original units
  double count = 0;
};

// history.csv: one row per finished epoch (epoch, train loss, train metric, test loss, test
// metric, seconds); carried in checkpoints so a resumed run continues the same file.
struct History {
  std::vector<std::string> rows;  // CSV lines without header
  std::string csv(Task task) const;
};

// Adds this batch's metrics (loss sum, correct count / squared error in original units) and,
// for family with `confusion` set, counts [true * classes + predicted].
void accumulate(EpochSums& sums, const at::Tensor& output, const at::Tensor& target, double loss,
                Task task, double target_sd, std::vector<double>* confusion, int classes);
double metric(const EpochSums& s, Task task);
double mean_loss(const EpochSums& s);
// Collective: sums `s` over the ranks of `comm`.
void reduce_sums(EpochSums& s, const boost::mpi::communicator& comm);

}  // namespace cfma::train
