// Data-parallel training throughput: the trainer's own step (cfma::train::DataParallelStep) at
// 1 rank x 1 thread and at 2 ranks x 1 thread on the same global batch, measured in ONE 2-rank
// job that alternates the two layouts round by round, so both see the same machine: on a
// shared or virtual machine the speed of a core drifts by 10-20 % within a minute, which
// separate runs would book as speed-up or loss.
//
// Each round (A and B swap places every other round): (A) rank 0 alone trains its own replica on the whole global batch over
// MPI_COMM_SELF while rank 1 sleeps (the 1-rank baseline: one busy core, as a 1-rank job);
// (B) both ranks train the data-parallel replica, each on its half of the same global batch,
// BatchNorm statistics and gradients all-reduced; (C) rank 0 alone on half the batch (the
// compute ceiling: B without communication or waiting). Each phase: 1 untimed step, then
// `steps` timed ones. Synthetic inputs in memory (no HDF5 in the timed loop).
//
//   mpirun -np 2 --bind-to none bench_training [rounds] [steps] [arch] [global_batch]
// Prints per round and the median over rounds: examples/s of A and B, the speed-up B/A (goal
// >= 1.85x) and the ceiling C/A. bench/training.sh runs it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/mpi/collectives.hpp>
#include <mpi.h>
#include <torch/torch.h>

#include "cfma/core/blas_runtime.hpp"
#include "cfma/nn/allocator.hpp"
#include "cfma/nn/architectures.hpp"
#include "cfma/par/world.hpp"
#include "cfma/train/batches.hpp"
#include "cfma/train/step.hpp"

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Waits for every rank without spinning: a rank that has nothing to do in a phase must leave
// its core to the others (as an idle core of a 1-rank job would be).
void sleeping_barrier(const boost::mpi::communicator& comm) {
  MPI_Request request;
  MPI_Ibarrier(MPI_Comm(comm), &request);
  int done = 0;
  while (!done) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (!done) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// A replica of the net with its optimizer and step, on `comm`.
struct Replica {
  cfma::nn::Net net;
  torch::optim::SGD optimizer;
  cfma::train::DataParallelStep step;
  Replica(const cfma::nn::ModelSpec& spec, const boost::mpi::communicator& comm)
      : net(cfma::nn::build_model(spec)),
        optimizer(net->parameters(), torch::optim::SGDOptions(0.005).momentum(0.9)),
        step(net, optimizer, comm, cfma::train::Task::family) {}
};

// Seconds per step of `steps` timed steps (after one untimed one) on rows [begin, end) of a
// global batch of `global_rows`: the all-reduce step (micro 0), or the micro-batch step on
// this rank's micro-batches of the first `global_rows` rows (begin, end ignored).
double time_steps(Replica& r, const at::Tensor& x, const at::Tensor& y, std::int64_t begin, std::int64_t end,
                  std::int64_t global_rows, int steps, const boost::mpi::communicator& comm, int micro = 0) {
  const auto plan = cfma::train::micro_batch_plan(global_rows, std::max(micro, 1), comm.rank(), comm.size());
  if (micro > 0) begin = plan.row_begin, end = plan.row_end;
  const auto xs = x.narrow(0, begin, end - begin).clone(), ys = y.narrow(0, begin, end - begin).clone();
  const auto step = [&] {
    if (micro > 0) r.step.run_micro(xs, ys, global_rows, plan);
    else r.step.run(xs, ys, global_rows);
  };
  step();
  comm.barrier();
  const auto start = Clock::now();
  for (int s = 0; s < steps; ++s) step();
  comm.barrier();
  return seconds_since(start) / steps;
}
}  // namespace

int main(int argc, char** argv) {
  cfma::reexec_with_capable_blas_kernels(argv);
  cfma::par::World world(argc, argv);
  const bool mapped = cfma::nn::keep_large_allocations_mapped();
  const int rounds = argc > 1 ? std::stoi(argv[1]) : 21;
  const int steps = argc > 2 ? std::stoi(argv[2]) : 3;
  const std::string arch = argc > 3 ? argv[3] : "regular";
  const int global_batch = argc > 4 ? std::stoi(argv[4]) : 64;
  // Rows per micro-batch of the deterministic step (train.micro_batch); 0: the all-reduce step.
  // With micro > 0 every round also times the all-reduce step on 2 ranks (phase E), so the cost
  // of the deterministic reduction is a ratio within the same job.
  const int micro = argc > 5 ? std::stoi(argv[5]) : 0;
  auto& world_comm = cfma::par::World::comm();
  if (world_comm.size() > 2) {
    if (world_comm.rank() == 0) std::fprintf(stderr, "bench_training: run with mpirun -np 2 (got %d ranks)\n", world_comm.size());
    return 2;
  }
  const bool single = world_comm.size() == 1;  // phases A and C only: the baseline as its own job
  at::set_num_threads(1);
  cfma::set_blas_threads(1);
  const boost::mpi::communicator self(MPI_COMM_SELF, boost::mpi::comm_attach);

  cfma::nn::ModelSpec spec;
  spec.arch = arch;
  spec.num_outputs = 8;
  spec.seed = 1;
  torch::manual_seed(42);
  const auto x = torch::randn({global_batch, 1, 128, 128});
  const auto y = torch::randint(0, spec.num_outputs, {global_batch}, torch::kLong);
  const bool root = world_comm.rank() == 0;
  const std::int64_t half = global_batch / 2;

  Replica parallel(spec, world_comm);
  Replica alone(spec, self);  // each rank's own replica (rank 1's only for phase D)
  if (root)
    std::printf("# %s, global batch %d, 1 thread per rank, %d rounds x %d steps per phase; allocator %s; %s\n",
                arch.c_str(), global_batch, rounds, steps, mapped ? "keeps large blocks mapped" : "default",
                cfma::blas_description().c_str());

  std::vector<double> one_rank, two_ranks, ceiling, side_by_side, deterministic_cost;
  for (int round = 0; round < rounds; ++round) {
    double t_one = 0, t_two = 0, t_half = 0, t_allreduce = 0;
    auto phase_one_rank = [&] {
      if (root) t_one = time_steps(alone, x, y, 0, global_batch, global_batch, steps, self, micro);
      sleeping_barrier(world_comm);
    };
    auto phase_two_ranks = [&] {
      const auto block = cfma::par::block_of(global_batch, world_comm.rank(), 2);
      if (!single) t_two = time_steps(parallel, x, y, block.begin, block.end, global_batch, steps, world_comm, micro);
      if (!single && micro > 0)
        t_allreduce = time_steps(parallel, x, y, block.begin, block.end, global_batch, steps, world_comm, 0);
    };
    // A B C in even rounds, B A C in odd ones: a drift of the machine's speed within a round
    // favours neither layout.
    if (round % 2 == 0) {
      phase_one_rank();
      phase_two_ranks();
    } else {
      phase_two_ranks();
      phase_one_rank();
    }
    if (root) t_half = time_steps(alone, x, y, 0, half, half, steps, self, micro);
    sleeping_barrier(world_comm);
    // D: every rank alone on half the batch at the same time (no communication): what running
    // two processes side by side costs on this machine.
    double t_side = single ? 0.0 : time_steps(alone, x, y, 0, half, half, steps, self, micro);
    if (!single) {
      double slowest = 0;
      boost::mpi::reduce(world_comm, t_side, slowest, boost::mpi::maximum<double>(), 0);
      t_side = slowest;
    }
    if (!root) continue;
    one_rank.push_back(global_batch / t_one);
    ceiling.push_back(t_one / t_half);
    if (single) {
      std::printf("round %d: 1 rank %.1f examples/s (%.1f ms/step); ceiling %.3fx\n", round + 1, one_rank.back(),
                  1000 * t_one, ceiling.back());
    } else {
      two_ranks.push_back(global_batch / t_two);
      side_by_side.push_back(t_one / t_side);
      if (micro > 0) {
        deterministic_cost.push_back(t_two / t_allreduce);
        std::printf("round %d: 2 ranks, micro-batch step %.1f ms vs all-reduce step %.1f ms: %.3fx\n", round + 1,
                    1000 * t_two, 1000 * t_allreduce, deterministic_cost.back());
      }
      std::printf("round %d: 1 rank %.1f examples/s (%.1f ms/step), 2 ranks %.1f examples/s (%.1f ms/step): %.3fx; "
                  "ceiling %.3fx, side by side %.3fx\n",
                  round + 1, one_rank.back(), 1000 * t_one, two_ranks.back(), 1000 * t_two,
                  two_ranks.back() / one_rank.back(), ceiling.back(), side_by_side.back());
    }
    std::fflush(stdout);
  }
  if (root && single) {
    std::printf("throughput %s batch %d examples_per_s_1rank %.1f ceiling %.3f (medians over %d rounds, 1-rank job)\n",
                arch.c_str(), global_batch, median(one_rank), median(ceiling), rounds);
  } else if (root) {
    std::vector<double> speedup;
    for (std::size_t r = 0; r < one_rank.size(); ++r) speedup.push_back(two_ranks[r] / one_rank[r]);
    std::printf("throughput %s batch %d examples_per_s_1rank %.1f examples_per_s_2ranks %.1f speedup %.3f "
                "ceiling %.3f side_by_side %.3f (medians over %d rounds; goal speedup >= 1.85)\n",
                arch.c_str(), global_batch, median(one_rank), median(two_ranks), median(speedup), median(ceiling),
                median(side_by_side), rounds);
    if (micro > 0)
      std::printf("micro_batch %d: 2-rank step time over the all-reduce step's %.3f (median)\n", micro,
                  median(deterministic_cost));
  }
  return 0;
}
