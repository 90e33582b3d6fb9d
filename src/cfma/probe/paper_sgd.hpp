#pragma once
// The paper's family probe, for reproduction runs (reference-spec 6.1, quirk Q12; Q1 for the
// double softmax): a Linear(D, K) layer initialised as PyTorch does after
// torch.manual_seed(seed) (LibTorch's own init, so the same generator draws the same values),
// trained by SGD (lr, momentum as torch.optim.SGD: buf = momentum * buf + g, p -= lr * buf) for
// `epochs` epochs over batches of `batch_size` consecutive train rows (shuffle=False), no
// regularisation, on CrossEntropyLoss of the softmax output when `double_softmax` (the
// original's forward ended in a softmax). Not solved to an optimum: the numbers are the
// paper's protocol, not a converged estimator. Computed in double precision.
//
// Distributed: the train rows are the ranks' consecutive blocks of the train list, so a batch
// is a range of global positions; each rank sums its rows' gradients in that range and one
// all-reduce per batch gives the batch gradient. Every rank applies the same update.
#include <cstdint>
#include <span>

#include <boost/mpi/communicator.hpp>

#include "cfma/probe/local_rows.hpp"
#include "cfma/probe/logistic.hpp"

namespace cfma::probe {

struct PaperSgdOptions {
  int epochs = 100;
  double learning_rate = 0.01;
  double momentum = 0.9;
  std::int64_t batch_size = 64;
  std::uint64_t seed = 1;
  bool double_softmax = true;
};

struct PaperSgdModel {
  LogisticModel model;  // weights D x K, intercept K (model.solver: epochs as iterations)
  double running_train_accuracy = 0;  // during the last epoch, before each batch's step (Q10)
};

// `rows`: this rank's standardised train rows, whose global positions in the train list start
// at `first_position`; `total_rows`: the train list's length.
PaperSgdModel fit_logistic_paper_sgd(const boost::mpi::communicator& comm, LocalRows& rows,
                                     std::int64_t first_position, std::int64_t total_rows,
                                     std::span<const int> labels, int classes, const PaperSgdOptions& options);

}  // namespace cfma::probe
