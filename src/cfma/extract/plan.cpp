#include "cfma/extract/plan.hpp"

#include <algorithm>

#include "cfma/core/paths.hpp"
#include "cfma/nn/architectures.hpp"

namespace cfma::extract {

std::vector<ExtractRun> extract_runs(const train::TrainConfig& train_config, const ExtractConfig& config) {
  std::vector<ExtractRun> runs;
  for (const auto& spec : train::run_matrix(train_config))
    runs.push_back({spec.name(), spec.arch, train::task_name(spec.task), spec.seed, true});
  if (config.untrained)
    for (const auto& arch : train_config.architectures)
      for (const auto s : train_config.seeds) {
        const auto seed = static_cast<std::uint64_t>(s);
        runs.push_back({untrained_run_name(arch, seed), arch, "untrained", seed, false});
      }
  return runs;
}

std::vector<std::string> captured_layers(const std::string& arch, const std::vector<std::string>& wanted) {
  std::vector<std::string> layers;
  for (auto& id : nn::layer_ids(arch))
    if (std::find(wanted.begin(), wanted.end(), id) != wanted.end()) layers.push_back(std::move(id));
  return layers;
}

}  // namespace cfma::extract
