#pragma once
// One training run (architecture x task x seed), data parallel over `comm`:
//   epoch -> global batch -> local slice -> forward (BN statistics all-reduced) -> loss scaled
//   by 1/global batch -> backward -> ONE all-reduce of the flattened gradients (+ stop flag)
//   -> SGD step -> log -> maybe checkpoint.
// Outputs in run_dir (run_files.hpp): model.pt + model.json (final), checkpoint.pt,
// history.csv, confusion.csv (family), and model.pt.manifest.json (written last).
// Beside the loop: how a run starts (resume.hpp), checkpoint I/O (checkpoint.hpp), the test
// pass (evaluate.hpp), metrics and history rows (metrics.hpp), the replicas' agreement
// (replicas.hpp), the files written per epoch and at the end (run_outputs.hpp).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/mpi/communicator.hpp>
#include <nlohmann/json.hpp>

#include "cfma/train/train_config.hpp"

namespace cfma::train {

struct RunResult {
  bool skipped = false;  // up to date
  int epochs_done = 0;
  double train_loss = 0, test_loss = 0;
  double train_metric = 0, test_metric = 0;  // accuracy (family) or RMSE in original units
  // Global mean loss of each optimisation step done by this call, in order (same on every
  // rank): lets tests compare runs across rank counts step by step.
  std::vector<double> step_losses;
  // This rank's hash of the final parameters and buffers (model.json's parameter_hash on rank 0).
  std::string parameter_hash;
};

struct RunContext {
  std::filesystem::path features_h5;
  std::filesystem::path run_dir;
  nlohmann::json stage_key_config;  // hashed into the manifest; a different one refuses the run dir
  std::string features_fingerprint;
  int threads = 1;
  bool force = false;
};

RunResult train_run(const RunSpec& spec, const TrainConfig& config, const RunContext& ctx,
                    const boost::mpi::communicator& comm);

}  // namespace cfma::train
