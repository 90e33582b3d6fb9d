// `cfma similarity CONFIG`: all-pairs CKA / CCA / regression similarity of every selected
// feature set; the work is in cfma/sim/similarity_stage.hpp.
#include "cfma/core/paths.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/par/world.hpp"
#include "cfma/sim/similarity_stage.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

const Registrar similarity_stage{Stage{
    "similarity", 50, "all-pairs CKA, CCA R^2 and regression similarity of feature sets",
    [](const ConfigDoc& doc) { sim::parse_similarity_config(doc); },
    [](const ConfigDoc& doc, const StageOptions& options) {
      const auto run = parse_run_config(doc);
      sim::run_similarity_stage(par::World::comm(), WorkPaths{run.workdir}, sim::parse_similarity_config(doc),
                                resolve_threads(run.threads), options.force);
    }}};

}  // namespace
}  // namespace cfma::jobs
