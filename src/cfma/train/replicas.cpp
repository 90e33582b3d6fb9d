#include "cfma/train/replicas.hpp"

#include <boost/mpi/collectives.hpp>
#include <mpi.h>

#include "cfma/core/error.hpp"
#include "cfma/core/hash.hpp"

namespace cfma::train {

std::vector<at::Tensor> state_tensors(torch::nn::Module& model) {
  std::vector<at::Tensor> out;
  for (auto& p : model.parameters()) out.push_back(p);
  for (auto& b : model.buffers()) out.push_back(b);
  return out;
}

std::string parameter_hash(torch::nn::Module& model) {
  Hasher h;
  for (const auto& t : state_tensors(model)) {
    const auto c = t.contiguous();
    h.bytes(c.data_ptr(), static_cast<std::size_t>(c.numel()) * c.element_size());
  }
  return h.hex();
}

void broadcast_state(torch::nn::Module& model, const boost::mpi::communicator& comm) {
  if (comm.size() == 1) return;
  for (auto& t : state_tensors(model)) {
    auto c = t.detach();
    MPI_Bcast(c.data_ptr(), static_cast<int>(c.numel() * c.element_size()), MPI_BYTE, 0, MPI_Comm(comm));
  }
}

void check_replicas(torch::nn::Module& model, const boost::mpi::communicator& comm, int epoch) {
  const std::string mine = parameter_hash(model);
  std::vector<std::string> all;
  boost::mpi::all_gather(comm, mine, all);
  for (std::size_t r = 0; r < all.size(); ++r)
    if (all[r] != all[0])
      throw TrainError("replicas diverged after epoch " + std::to_string(epoch) + ": rank " +
                       std::to_string(r) + " parameter hash " + all[r] + " != rank 0 " + all[0]);
}

}  // namespace cfma::train
