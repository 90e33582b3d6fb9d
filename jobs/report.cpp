// `cfma report CONFIG` (rank 0): report/index.html with figures from every stage's outputs
// found in the workdir; the work is in cfma/report/report_stage.hpp so that tests can run it.
#include "cfma/core/paths.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/par/world.hpp"
#include "cfma/report/report_config.hpp"
#include "cfma/report/report_stage.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

const Registrar report_stage{Stage{
    "report", 60, "HTML report with tables and figures (rank 0)",
    [](const ConfigDoc& doc) { report::parse_report_config(doc); },
    [](const ConfigDoc& doc, const StageOptions& options) {
      const auto run = parse_run_config(doc);
      const auto config = report::parse_report_config(doc);
      report::run_report_stage(par::World::comm(), WorkPaths{run.workdir}, run.name, config, options.force);
    }}};

}  // namespace
}  // namespace cfma::jobs
