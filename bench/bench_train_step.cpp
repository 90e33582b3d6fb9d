// One training step (forward + cross-entropy + backward + SGD momentum 0.9) of the regular and
// deformable nets, batch 64, one thread, against the same nets in PyTorch-Python.
//
// Usage: bench_train_step [PEER_SCRIPT] [STEPS]
//   PEER_SCRIPT: bench/bench_train_step.py (run with /usr/bin/python3 twice: with glibc's
//   default malloc, and with MALLOC_MMAP_MAX_=0 so that its 39 MB activations are not
//   mmapped and page-faulted afresh every step). Omit to time cfma only.
// See bench/README.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>

#include "cfma/nn/allocator.hpp"
#include "cfma/nn/architectures.hpp"

namespace {

double median_ms_per_step(const std::string& arch, int steps, int warmup, int batch) {
  auto net = cfma::nn::build_model({arch, 8, false, "paper", 1});
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.005).momentum(0.9));
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({batch, 1, 128, 128});
  const torch::Tensor y = torch::randint(0, 8, {batch}, torch::kLong);
  std::vector<double> times;
  for (int i = 0; i < warmup + steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
    const auto t1 = std::chrono::steady_clock::now();
    if (i >= warmup) times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Runs the peer script and parses its "<arch> <ms>" lines.
std::map<std::string, double> run_peer(const std::string& env, const std::string& script, int steps) {
  std::map<std::string, double> ms;
  const std::string command = env + " OMP_NUM_THREADS=1 /usr/bin/python3 " + script + " " +
                              std::to_string(steps) + " 2";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return ms;
  char name[64];
  double value = 0;
  while (std::fscanf(pipe.get(), "%63s %lf", name, &value) == 2) ms[name] = value;
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string script = argc > 1 ? argv[1] : "";
  const int steps = argc > 2 ? std::stoi(argv[2]) : 10;
  at::set_num_threads(1);
  // cfma's trainer does this (see cfma/nn/allocator.hpp); the peer gets the same through
  // glibc's environment variables in the "no-mmap" column.
  const bool tuned = cfma::nn::keep_large_allocations_mapped();
  const std::vector<std::string> archs = {"regular", "deformable"};
  std::map<std::string, double> ours;
  for (const auto& arch : archs) ours[arch] = median_ms_per_step(arch, steps, 2, 64);
  std::map<std::string, double> peer, peer_tuned;
  if (!script.empty()) {
    peer = run_peer("", script, steps);
    peer_tuned = run_peer("MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824", script, steps);
  }
  std::printf("train step, batch 64, 1 thread, median of %d steps (ms/step); cfma allocator %s\n",
              steps, tuned ? "keeps large blocks mapped" : "default");
  std::printf("%-11s %9s %14s %7s %18s %7s\n", "net", "cfma", "pytorch-python", "ratio",
              "pytorch(no-mmap)", "ratio");
  for (const auto& arch : archs) {
    std::printf("%-11s %9.1f", arch.c_str(), ours[arch]);
    if (peer.count(arch)) std::printf(" %14.1f %7.3f", peer[arch], ours[arch] / peer[arch]);
    if (peer_tuned.count(arch))
      std::printf(" %18.1f %7.3f", peer_tuned[arch], ours[arch] / peer_tuned[arch]);
    std::printf("\n");
  }
  return 0;
}
