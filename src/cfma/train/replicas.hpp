#pragma once
// The replicas of a data-parallel run: every rank holds the whole model, and the ranks must
// agree on every parameter and buffer (the gradients are all-reduced, so they stay equal).
#include <string>
#include <vector>

#include <ATen/Tensor.h>
#include <boost/mpi/communicator.hpp>
#include <torch/nn/module.h>

namespace cfma::train {

// Every parameter then every buffer, in registration order.
std::vector<at::Tensor> state_tensors(torch::nn::Module& model);
// Hash of the bytes of state_tensors (model.json's parameter_hash).
std::string parameter_hash(torch::nn::Module& model);
// Collective: broadcasts every parameter and buffer from rank 0 (a safety net: seeded
// initialisation already agrees).
void broadcast_state(torch::nn::Module& model, const boost::mpi::communicator& comm);
// Collective: throws TrainError naming the first rank whose parameter hash differs from rank 0's.
void check_replicas(torch::nn::Module& model, const boost::mpi::communicator& comm, int epoch);

}  // namespace cfma::train
