#pragma once
// [run]: where a pipeline writes, which stages `cfma run` executes, threads per rank.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma {

struct RunConfig {
  std::string name = "cfma";
  // Every stage writes below this directory: features.h5, runs/, activations/, results/, report/.
  std::filesystem::path workdir = "work";
  std::vector<std::string> stages = {"preprocess", "train", "extract", "probe", "similarity", "report"};
  // Threads per rank for LibTorch/OpenMP; 0 = $SLURM_CPUS_PER_TASK, else $OMP_NUM_THREADS, else 1.
  int threads = 0;
};

RunConfig parse_run_config(const ConfigDoc& doc);
nlohmann::json to_json(const RunConfig& c);
// The effective thread count for `configured` (0 = from the environment).
int resolve_threads(int configured);

}  // namespace cfma
