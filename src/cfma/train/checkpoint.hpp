#pragma once
// checkpoint.pt of a run directory: one LibTorch archive holding
//   the model's parameters and buffers (Module::save),
//   "optimizer"  the SGD state (momentum buffers),
//   "meta"       a char tensor of JSON: {epoch, batch, seconds, running: [loss, correct,
//                sq_error, count], history: [CSV rows], key, config}.
// Written by rank 0 only, atomically (temporary name, renamed).
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/sgd.h>
#include <torch/serialize/output-archive.h>

#include "cfma/train/metrics.hpp"

namespace cfma::train {

struct Checkpoint {
  int epoch = 0;           // completed epochs
  std::int64_t batch = 0;  // batches of `epoch` already done (mid-epoch stop)
  EpochSums running;       // partial train sums of the interrupted epoch
  double seconds = 0;      // time spent in the interrupted epoch
  History history;
  std::string key;
  nlohmann::json config;  // the stage config the key was made of (tells "stale" from "foreign")
};

// Writes a LibTorch archive to `file` with checked writes (a full disk is an Error naming the
// file, never std::terminate).
void save_archive_file(torch::serialize::OutputArchive& archive, const std::filesystem::path& file);
// `tag` names the temporary (par::shared_tag).
void save_checkpoint(const std::filesystem::path& file, const std::string& tag, torch::nn::Module& model,
                     torch::optim::SGD& optimizer, const Checkpoint& c);
// Restores `model` and `optimizer` in place; throws TrainError naming a damaged file.
Checkpoint load_checkpoint(const std::filesystem::path& file, torch::nn::Module& model, torch::optim::SGD& optimizer);
// Only the "meta" JSON (for the resume decision); throws TrainError naming a damaged file.
nlohmann::json read_checkpoint_meta(const std::filesystem::path& file);

}  // namespace cfma::train
