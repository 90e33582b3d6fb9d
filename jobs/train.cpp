// `cfma train CONFIG [--run-index I | --list]`: trains the run matrix of [train] (or run I of
// it, for Slurm job arrays) on features.h5, data parallel over all ranks; --list prints the
// matrix with its indices and trains nothing.
#include <cstdio>

#include <spdlog/spdlog.h>

#include "cfma/core/error.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/core/paths.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/par/world.hpp"
#include "cfma/train/trainer.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

long long g_run_index = 0;
CLI::Option* g_run_index_option = nullptr;  // count() > 0 when --run-index was given
bool g_list = false;

void print_matrix(const std::vector<train::RunSpec>& runs) {
  if (par::World::rank() != 0) return;
  std::printf("index\trun\tarch\ttask\tseed\n");
  for (std::size_t i = 0; i < runs.size(); ++i)
    std::printf("%zu\t%s\t%s\t%s\t%llu\n", i, runs[i].name().c_str(), runs[i].arch.c_str(),
                train::task_name(runs[i].task).c_str(), static_cast<unsigned long long>(runs[i].seed));
  std::printf("# %zu runs: --run-index 0..%zu (sbatch --array=0-%zu)\n", runs.size(), runs.size() - 1,
              runs.size() - 1);
  std::fflush(stdout);
}

bool one_run() { return g_run_index_option && g_run_index_option->count() > 0; }

// The runs this command trains: the whole matrix, or run --run-index of it.
std::vector<train::RunSpec> selected_runs(const ConfigDoc& doc, const std::vector<train::RunSpec>& runs) {
  if (!one_run()) return runs;
  if (g_run_index < 0 || g_run_index >= static_cast<long long>(runs.size()))
    throw TrainError("--run-index " + std::to_string(g_run_index) + " out of range: the matrix of " +
                     doc.file().string() + " has " + std::to_string(runs.size()) + " runs (0.." +
                     std::to_string(runs.size() - 1) + "; see cfma train --list)");
  return {runs[static_cast<std::size_t>(g_run_index)]};
}

// The tasks of a job array (--run-index) share the workdir and each owns its run directory.
LockScope lock_scope(const ConfigDoc& doc) {
  if (g_list) return {true, std::nullopt};
  if (!one_run()) return {};
  const auto selected = selected_runs(doc, train::run_matrix(train::parse_train_config(doc)));
  return {false, WorkPaths{parse_run_config(doc).workdir}.run_dir(selected.front().name())};
}

void run(const ConfigDoc& doc, const StageOptions& options) {
  const auto run_config = parse_run_config(doc);
  const auto config = train::parse_train_config(doc);
  const auto runs = train::run_matrix(config);
  if (g_list) {
    print_matrix(runs);
    return;
  }
  const auto selected = selected_runs(doc, runs);
  const WorkPaths paths{run_config.workdir};
  auto& comm = par::World::comm();
  if (!std::filesystem::exists(paths.features()))
    throw TrainError(paths.features().string() + ": features store missing (run the preprocess stage first)");
  if (!read_manifest(paths.features()))
    throw TrainError(paths.features().string() + ": no manifest (incomplete preprocess output?)");
  train::RunContext ctx;
  ctx.features_h5 = paths.features();
  ctx.features_fingerprint = output_fingerprint(paths.features());
  ctx.threads = resolve_threads(config.threads > 0 ? config.threads : run_config.threads);
  ctx.force = options.force;
  auto key_config = train::to_json(config);
  for (const auto* k : {"architectures", "tasks", "seeds"}) key_config.erase(k);  // per-run below
  for (const auto& spec : selected) {
    ctx.run_dir = paths.run_dir(spec.name());
    ctx.stage_key_config = key_config;
    ctx.stage_key_config["run"] = spec.name();
    const auto result = train::train_run(spec, config, ctx, comm);
    if (result.skipped) spdlog::info("{}: up to date, skipped", spec.name());
    else
      spdlog::info("{}: done, train {} {:.3f}, test {} {:.3f}", spec.name(),
                   spec.task == train::Task::family ? "accuracy %" : "RMSE", result.train_metric,
                   spec.task == train::Task::family ? "accuracy %" : "RMSE", result.test_metric);
  }
}

const Registrar train_stage{Stage{
    "train", 20, "train the run matrix (architectures x tasks x seeds), data parallel",
    [](const ConfigDoc& doc) { train::parse_train_config(doc); }, run,
    [](CLI::App& app) {
      g_run_index_option = app.add_option("--run-index", g_run_index, "train only run I of the matrix (job arrays; see --list)");
      app.add_flag("--list", g_list, "print the run matrix with its indices and exit");
    },
    lock_scope,
    [](const ConfigDoc& doc) {
      std::vector<std::string> names;
      if (one_run())
        for (const auto& spec : selected_runs(doc, train::run_matrix(train::parse_train_config(doc)))) names.push_back(spec.name());
      return names;
    }}};

}  // namespace
}  // namespace cfma::jobs
