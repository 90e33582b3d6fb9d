#pragma once
// [train]: the run matrix (architectures x tasks x seeds) and the optimisation settings.
// Defaults are the paper's (reference-spec section 4) except where a quirk is fixed: see
// double_softmax (Q1) and shuffle.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma::train {

enum class Task { family, pitch, velocity };
Task parse_task(const std::string& name);  // throws TrainError listing the valid tasks
std::string task_name(Task t);

struct TrainConfig {
  std::vector<std::string> architectures = {"regular", "deformable"};
  std::vector<std::string> tasks = {"family"};
  std::vector<std::int64_t> seeds = {1};
  int epochs = 100;
  int batch_size = 64;           // global batch, split over ranks
  // Rows per micro-batch: each global batch is cut into micro-batches on its own order, whose
  // gradients and BatchNorm sums are combined in micro-batch order, so a run ends with the
  // same weights, bit for bit, on any number of ranks (with the same threads per rank). At most
  // ceil(batch_size / micro_batch) ranks have work. 0: each rank's slice in one piece and one
  // all-reduce per step (rounding then depends on the rank count).
  int micro_batch = 8;
  double learning_rate = 0.005;  // SGD
  double momentum = 0.9;
  bool shuffle = true;           // seeded per-epoch permutation; the paper did not shuffle
  bool double_softmax = false;   // paper Q1: softmax before cross-entropy
  std::string deformable_mode = "paper";  // paper | dcnv2
  int checkpoint_every = 1;      // epochs between checkpoints (also on SIGTERM/SIGUSR1)
  int threads = 0;               // per rank; 0 = [run].threads / environment
  bool verify_replicas = false;  // hash all-gather of parameters after each epoch (on in debug builds)
};

TrainConfig parse_train_config(const ConfigDoc& doc);
nlohmann::json to_json(const TrainConfig& c);

struct RunSpec {
  std::string arch;
  Task task;
  std::uint64_t seed;
  std::string name() const;
};
// The matrix in a fixed order: architecture-major, then task, then seed.
std::vector<RunSpec> run_matrix(const TrainConfig& c);

}  // namespace cfma::train
