#include "cfma/train/evaluate.hpp"

#include <algorithm>
#include <span>

#include <torch/torch.h>

#include "cfma/par/reduce.hpp"
#include "cfma/par/world.hpp"
#include "cfma/train/step.hpp"

namespace cfma::train {

TestPass evaluate(nn::Net& net, MelDataset& data, Task task, int batch_size, const boost::mpi::communicator& comm) {
  net->eval();
  const int classes = data.num_classes();
  TestPass test;
  test.confusion.assign(static_cast<std::size_t>(classes * classes), 0.0);
  {
    torch::NoGradGuard no_grad;
    const auto& test_rows = data.test_rows();
    const auto block = par::block_of(static_cast<std::int64_t>(test_rows.size()), comm.rank(), comm.size());
    for (std::int64_t i = block.begin; i < block.end; i += batch_size) {
      const auto end = std::min<std::int64_t>(block.end, i + batch_size);
      at::Tensor x, y;
      data.load(std::span<const std::int64_t>(test_rows.data() + i, static_cast<std::size_t>(end - i)), x, y);
      const auto output = net->forward(x);
      accumulate(test.sums, output, y, loss_sum(output, y, task).item<double>(), task, data.target_sd(),
                 task == Task::family ? &test.confusion : nullptr, classes);
    }
  }
  reduce_sums(test.sums, comm);
  if (task == Task::family) par::all_reduce_sum(comm, std::span<double>(test.confusion));
  return test;
}

}  // namespace cfma::train
