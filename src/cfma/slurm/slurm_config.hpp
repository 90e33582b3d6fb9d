#pragma once
// [slurm]: resources of the jobs `cfma submit` sends. The top-level keys apply to every job;
// [slurm.preprocess], [slurm.train] and [slurm.analysis] override them per job.
//   partition, account, time ("HH:MM:SS" or Slurm's other forms), mem ("8G"): passed as given
//   when not empty; nodes, ntasks, cpus_per_task: the allocation (ranks = ntasks);
//   extra: further sbatch arguments, e.g. ["--qos=long", "--constraint=avx512"].
// Top level only: array_throttle (0 = none; K: at most K training runs at once, sbatch's %K),
// log_dir (where the job logs go; default <workdir>/logs).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma::slurm {

struct JobResources {
  std::string partition, account, time, mem;
  int nodes = 1;
  int ntasks = 2;
  int cpus_per_task = 1;
  std::vector<std::string> extra;
};

struct SlurmConfig {
  JobResources preprocess, train, analysis;
  int array_throttle = 0;
  std::string log_dir;  // empty: <workdir>/logs
};

SlurmConfig parse_slurm_config(const ConfigDoc& doc);
// The sbatch options of one job, in a fixed order.
std::vector<std::string> sbatch_options(const JobResources& r);

}  // namespace cfma::slurm
