#pragma once
// `cfma submit`: a study as a Slurm dependency graph of three jobs, each slurm/cfma.sbatch:
//   1. preprocess             cfma run CONFIG --set run.stages=["preprocess"]
//   2. training job array     cfma train CONFIG --run-index @array@   (one element per run of the
//                             [train] matrix, %array_throttle)         --dependency=afterok:1
//   3. analysis               cfma run CONFIG --set run.stages=[the config's stages among
//                             extract, probe, similarity, report]      --dependency=afterok:2
// A job whose stages the config's run.stages leaves out is not submitted (the next one then
// depends on the one before). The user's --set overrides travel with every job.
#include <filesystem>
#include <string>
#include <vector>

#include "cfma/core/config.hpp"

namespace cfma::slurm {

struct SubmitJob {
  std::string name;               // preprocess, train, analysis
  std::vector<std::string> argv;  // sbatch ... (a dependency on the previous job is "@previous@")
};

struct SubmitPlan {
  std::vector<SubmitJob> jobs;
  std::filesystem::path log_dir;
};

struct SubmitInputs {
  std::filesystem::path config;        // absolute
  std::vector<std::string> overrides;  // --set values, forwarded
  std::filesystem::path cfma_binary;   // absolute
  std::filesystem::path sbatch_script; // slurm/cfma.sbatch, absolute
};

SubmitPlan plan_submission(const ConfigDoc& doc, const SubmitInputs& inputs);

// Shell-quoted command line, for --dry-run and logs.
std::string shell_command(const std::vector<std::string>& argv);

// Runs sbatch for each job in order, each depending on the previous job's id; returns the ids.
// Throws Error naming the job and sbatch's message when a submission fails.
std::vector<std::string> submit(const SubmitPlan& plan);

}  // namespace cfma::slurm
