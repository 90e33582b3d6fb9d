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
    // Chunks of batch_size rows on the global test order, consecutive blocks of chunks per
    // rank; each chunk's sums start from zero and the chunks are added in order, so the test
    // metrics have the same bits whatever the number of ranks.
    const auto& test_rows = data.test_rows();
    const auto n = static_cast<std::int64_t>(test_rows.size());
    const std::int64_t chunks = (n + batch_size - 1) / batch_size;
    std::vector<std::int64_t> chunks_per_rank;
    for (int r = 0; r < comm.size(); ++r) {
      const auto b = par::block_of(chunks, r, comm.size());
      chunks_per_rank.push_back(b.end - b.begin);
    }
    const auto block = par::block_of(chunks, comm.rank(), comm.size());
    std::vector<double> partial;  // per chunk: loss, correct, sq_error, count
    for (std::int64_t c = block.begin; c < block.end; ++c) {
      const auto begin = c * batch_size, end = std::min<std::int64_t>(n, begin + batch_size);
      at::Tensor x, y;
      data.load(std::span<const std::int64_t>(test_rows.data() + begin, static_cast<std::size_t>(end - begin)), x, y);
      const auto output = net->forward(x);
      EpochSums chunk;
      accumulate(chunk, output, y, loss_sum(output, y, task).item<double>(), task, data.target_sd(),
                 task == Task::family ? &test.confusion : nullptr, classes);
      partial.insert(partial.end(), {chunk.loss, chunk.correct, chunk.sq_error, chunk.count});
    }
    const auto total = par::all_ordered_row_sum(comm, std::span<const double>(partial), 4, chunks_per_rank);
    test.sums = EpochSums{total[0], total[1], total[2], total[3]};
  }
  // Counts: integers, exact in any order.
  if (task == Task::family) par::all_reduce_sum(comm, std::span<double>(test.confusion));
  return test;
}

}  // namespace cfma::train
