#pragma once
// The report's first section and its reproduction view.
//   Run summary: from the study manifest (<workdir>/study.json, study/study_manifest.hpp) and
//   features.h5's manifest: the config (linked: study.toml, study.json), cfma's version and
//   commit, library versions and BLAS kernels, ranks and threads and wall time per stage (its
//   latest invocation that did work), skipped notes, where the outputs are.
//   Reproduction at a glance: the paper's recorded results (paper_results.csv, compiled in;
//   scripts/paper_results.py) beside this run's, with the difference, for a run of the paper's
//   protocol (configs/paper.toml, [run].name = "paper").
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/core/paths.hpp"
#include "cfma/report/csv.hpp"
#include "cfma/report/html.hpp"

namespace cfma::report {

// One stage's latest invocation that wrote its outputs (an up-to-date rerun does not count).
struct StageTime {
  std::string stage;
  double wall_s = 0;
  int ranks = 0, threads = 0;
  std::string hosts, finished, slurm_job;
};
// In pipeline order; stages the manifest does not list are left out.
std::vector<StageTime> stage_times(const nlohmann::json& study);

std::string run_summary_section(const WorkPaths& paths, const std::string& name);

// The compiled-in reference values (header: quantity, arch, model_task, layer, target, split,
// metric, paper_mean, paper_sd, source; '#' lines skipped).
Table paper_results();
// paper_results() rows with this run's value beside each: columns quantity, model, layer, what,
// paper, run, difference, source ("" for the run when it has no such result).
Table reproduction_table(const WorkPaths& paths);
// The section; empty unless `name` is "paper" or the study's config file is paper.toml.
// The whole table goes beside the page as reproduction.csv.
std::string reproduction_section(const WorkPaths& paths, const std::string& name, FigureWriter& figures);

}  // namespace cfma::report
