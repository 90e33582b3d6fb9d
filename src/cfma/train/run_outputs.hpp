#pragma once
// What a run writes besides its checkpoint (rank 0 only, each file atomically); layout of the
// run directory in run_files.hpp.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include "cfma/core/manifest.hpp"
#include "cfma/train/metrics.hpp"
#include "cfma/train/run_files.hpp"

namespace cfma::train {

// history.csv; for family also confusion.csv (rows: true class, columns: predicted class,
// counts of the test pass `confusion` [true * classes + predicted]).
void write_epoch_outputs(const RunFiles& files, const History& history, Task task,
                         const std::vector<double>& confusion, const std::vector<std::string>& class_names);
// model.pt (parameters and buffers), model.json (`info`), then the manifest of model.pt with
// the final metrics `final_metrics`.
void write_final_model(const RunFiles& files, const std::string& tag, torch::nn::Module& model,
                       const nlohmann::json& info, const StageKey& key, const nlohmann::json& final_metrics);

}  // namespace cfma::train
