// `cfma train CONFIG [--run-index I]`: trains the run matrix of [train] (or run I of it, for
// Slurm job arrays) on features.h5, data parallel over all ranks.
#include <optional>

#include <spdlog/spdlog.h>

#include "cfma/core/error.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/core/paths.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/nn/architectures.hpp"
#include "cfma/par/world.hpp"
#include "cfma/train/trainer.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

int g_run_index = -1;

void validate(const ConfigDoc& doc) {
  const auto c = train::parse_train_config(doc);
  const auto known = nn::architecture_names();
  for (const auto& a : c.architectures)
    if (std::find(known.begin(), known.end(), a) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError(doc.file().string() + ": train.architectures: unknown architecture '" + a +
                        "' (valid: " + list + ")");
    }
}

void run(const ConfigDoc& doc, const StageOptions& options) {
  const auto run_config = parse_run_config(doc);
  const auto config = train::parse_train_config(doc);
  const WorkPaths paths{run_config.workdir};
  auto& comm = par::World::comm();
  if (!std::filesystem::exists(paths.features()))
    throw TrainError(paths.features().string() + ": features store missing (run the preprocess stage first)");
  if (!read_manifest(paths.features()))
    throw TrainError(paths.features().string() + ": no manifest (incomplete preprocess output?)");
  const auto runs = train::run_matrix(config);
  std::vector<train::RunSpec> selected = runs;
  if (g_run_index >= 0) {
    if (g_run_index >= static_cast<int>(runs.size()))
      throw TrainError("--run-index " + std::to_string(g_run_index) + " out of range: the matrix has " +
                       std::to_string(runs.size()) + " runs");
    selected = {runs[static_cast<std::size_t>(g_run_index)]};
  }
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
    "train", 20, "train the run matrix (architectures x tasks x seeds), data parallel", validate, run,
    [](CLI::App& app) {
      app.add_option("--run-index", g_run_index, "train only run I of the matrix (job arrays)");
    }}};

}  // namespace
}  // namespace cfma::jobs
