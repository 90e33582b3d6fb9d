#pragma once
// What the extract stage produces for a config: one activations file per trained run of the
// [train] matrix and per untrained twin (architecture x seed), each with the layers of
// extract.layers that its architecture has.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cfma/extract/extract_config.hpp"
#include "cfma/train/train_config.hpp"

namespace cfma::extract {

struct ExtractRun {
  std::string name, arch, task;  // task: family, pitch, velocity or "untrained"
  std::uint64_t seed = 0;
  bool trained = false;
};

// Trained runs in run-matrix order, then the untrained twins (architecture-major) when
// extract.untrained.
std::vector<ExtractRun> extract_runs(const train::TrainConfig& train_config, const ExtractConfig& config);
// The ids of `wanted` that `arch` has, in forward order (empty: the run is skipped).
std::vector<std::string> captured_layers(const std::string& arch, const std::vector<std::string>& wanted);

}  // namespace cfma::extract
