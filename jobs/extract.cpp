// `cfma extract CONFIG`: activations of every captured layer of every trained run and of the
// untrained twins; the work is in cfma/extract/extract_stage.hpp.
#include "cfma/core/paths.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/extract/extract_stage.hpp"
#include "cfma/par/world.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

const Registrar extract_stage{Stage{
    "extract", 30, "activations of every layer of trained and untrained nets",
    [](const ConfigDoc& doc) {
      extract::parse_extract_config(doc);
      train::parse_train_config(doc);
    },
    [](const ConfigDoc& doc, const StageOptions& options) {
      const auto run = parse_run_config(doc);
      const auto train_config = train::parse_train_config(doc);
      const int threads = resolve_threads(train_config.threads > 0 ? train_config.threads : run.threads);
      extract::run_extract_stage(par::World::comm(), WorkPaths{run.workdir}, extract::parse_extract_config(doc),
                                 train_config, {threads, options.force});
    }}};

}  // namespace
}  // namespace cfma::jobs
