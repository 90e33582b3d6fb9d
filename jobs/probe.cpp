// `cfma probe CONFIG`: linear probes of every feature set (reference-spec section 6); the
// work is in cfma/probe/probe_stage.hpp so that tests can run it.
#include "cfma/core/paths.hpp"
#include <Eigen/Core>

#include "cfma/core/run_config.hpp"
#include "cfma/par/world.hpp"
#include "cfma/probe/probe_stage.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

const Registrar probe_stage{Stage{
    "probe", 40, "linear probes of every layer, hand-crafted set and the input; transfer matrix; concatenation",
    [](const ConfigDoc& doc) { probe::parse_probe_config(doc); },
    [](const ConfigDoc& doc, const StageOptions& options) {
      const auto run = parse_run_config(doc);
      Eigen::setNbThreads(resolve_threads(run.threads));  // GEMM threads per rank
      probe::run_probe_stage(par::World::comm(), WorkPaths{run.workdir}, probe::parse_probe_config(doc), options.force);
    }}};

}  // namespace
}  // namespace cfma::jobs
