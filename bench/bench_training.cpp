// Data-parallel training throughput of one net: examples/s over the ranks of MPI_COMM_WORLD,
// 1 thread per rank, on a fixed GLOBAL batch split over the ranks (as the trainer does).
// Synthetic inputs in memory (no HDF5 in the timed loop). One step = the trainer's step:
// forward (BatchNorm statistics all-reduced across ranks) -> summed cross-entropy / global
// batch -> backward -> ONE all-reduce of the flattened gradients -> SGD(0.005, momentum 0.9).
//
//   mpirun -np 1 bench_training [steps] [arch] [global_batch]
//   mpirun -np 2 bench_training [steps] [arch] [global_batch]
// bench/training.sh runs both and prints the ratio. Prints on rank 0:
//   "throughput <arch> ranks <P> batch <B> examples_per_s <X> ms_per_step <T> allreduce_ms <A>
//    cpu_ms_per_step <C>" (C: the largest per-rank process CPU time per step)
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/mpi/collectives.hpp>
#include <mpi.h>
#include <torch/torch.h>

#include "cfma/nn/allocator.hpp"
#include "cfma/nn/architectures.hpp"
#include "cfma/par/reduce.hpp"
#include "cfma/par/world.hpp"

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
// CPU time of this process (all its threads): on a shared machine the wall clock of a 2-rank
// run also measures the other load; CPU time per step shows what each rank itself spent.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

int main(int argc, char** argv) {
  cfma::par::World world(argc, argv);
  const bool mapped = cfma::nn::keep_large_allocations_mapped();
  const int steps = argc > 1 ? std::stoi(argv[1]) : 10;
  const std::string arch = argc > 2 ? argv[2] : "regular";
  const int global_batch = argc > 3 ? std::stoi(argv[3]) : 64;
  const int warmup = 2;
  auto& comm = cfma::par::World::comm();
  at::set_num_threads(1);

  cfma::nn::ModelSpec spec;
  spec.arch = arch;
  spec.num_outputs = 8;
  spec.seed = 1;
  auto net = cfma::nn::build_model(spec);
  if (comm.size() > 1)
    net->set_stats_all_reduce([&comm](torch::Tensor sums) {
      auto c = sums.contiguous();
      cfma::par::all_reduce_sum(comm, std::span<double>(c.data_ptr<double>(), static_cast<std::size_t>(c.numel())));
      if (!c.is_same(sums)) sums.copy_(c);
    });
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.005).momentum(0.9));

  // The global batch is the same for every rank count; this rank takes its block of it.
  torch::manual_seed(42);
  const auto all_x = torch::randn({global_batch, 1, 128, 128});
  const auto all_y = torch::randint(0, spec.num_outputs, {global_batch}, torch::kLong);
  const auto block = cfma::par::block_of(global_batch, comm.rank(), comm.size());
  const auto x = all_x.narrow(0, block.begin, block.size()).clone();
  const auto y = all_y.narrow(0, block.begin, block.size()).clone();

  std::vector<at::Tensor> params = net->parameters();
  std::int64_t flat_size = 1;  // + the stop flag the trainer carries
  for (const auto& p : params) flat_size += p.numel();
  auto flat = at::zeros({flat_size}, at::kFloat);

  double allreduce_seconds = 0;
  double last_loss = 0;
  Clock::time_point start;
  double cpu_start = 0;
  for (int s = 0; s < warmup + steps; ++s) {
    if (s == warmup) {
      comm.barrier();
      start = Clock::now();
      cpu_start = process_cpu_seconds();
      allreduce_seconds = 0;
    }
    optimizer.zero_grad();
    const auto output = net->forward(x);
    const auto loss = torch::nn::functional::cross_entropy(
        output, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    (loss / static_cast<double>(global_batch)).backward();
    std::int64_t offset = 0;
    for (const auto& p : params) {
      flat.narrow(0, offset, p.numel()).copy_(p.grad().reshape({-1}));
      offset += p.numel();
    }
    flat[offset] = 0.0f;
    const auto reduce_start = Clock::now();
    cfma::par::all_reduce_sum(comm, std::span<float>(flat.data_ptr<float>(), static_cast<std::size_t>(flat_size)));
    allreduce_seconds += seconds_since(reduce_start);
    offset = 0;
    for (auto& p : params) {
      p.grad().copy_(flat.narrow(0, offset, p.numel()).view_as(p));
      offset += p.numel();
    }
    optimizer.step();
    last_loss = loss.item<double>();
  }
  comm.barrier();
  const double elapsed = seconds_since(start);
  const double cpu = process_cpu_seconds() - cpu_start;
  double loss_sum = 0, cpu_max = 0;
  boost::mpi::reduce(comm, last_loss, loss_sum, std::plus<double>(), 0);
  boost::mpi::reduce(comm, cpu, cpu_max, boost::mpi::maximum<double>(), 0);
  if (comm.rank() == 0) {
    std::printf("# %s, %d rank(s) x 1 thread, global batch %d (local %lld on rank 0), %d steps after %d warm-up; "
                "allocator %s; %lld parameters; last loss %.4f\n",
                arch.c_str(), comm.size(), global_batch, static_cast<long long>(block.size()), steps, warmup,
                mapped ? "keeps large blocks mapped" : "default", static_cast<long long>(flat_size - 1),
                loss_sum / global_batch);
    std::printf("throughput %s ranks %d batch %d examples_per_s %.2f ms_per_step %.1f allreduce_ms %.2f "
                "cpu_ms_per_step %.1f\n",
                arch.c_str(), comm.size(), global_batch, steps * global_batch / elapsed, 1000.0 * elapsed / steps,
                1000.0 * allreduce_seconds / steps, 1000.0 * cpu_max / steps);
  }
  return 0;
}
