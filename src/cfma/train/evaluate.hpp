#pragma once
// The test pass of an epoch: each rank evaluates its block (par::block_of) of the test rows in
// eval mode (BatchNorm running statistics), without gradients, `batch_size` rows at a time.
#include <vector>

#include <boost/mpi/communicator.hpp>

#include "cfma/nn/architectures.hpp"
#include "cfma/train/mel_dataset.hpp"
#include "cfma/train/metrics.hpp"

namespace cfma::train {

struct TestPass {
  EpochSums sums;                 // summed over ranks
  std::vector<double> confusion;  // [true * classes + predicted], summed over ranks (family; zeros otherwise)
};

// Collective. Leaves `net` in eval mode.
TestPass evaluate(nn::Net& net, MelDataset& data, Task task, int batch_size, const boost::mpi::communicator& comm);

}  // namespace cfma::train
