// `cfma run CONFIG`: every stage listed in [run].stages, in pipeline order. Each stage skips
// itself when its outputs are up to date, so re-running a finished or interrupted pipeline
// only does the missing work.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "cfma/core/error.hpp"
#include "cfma/core/log.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/core/stop_signal.hpp"
#include "cfma/par/workdir_lock.hpp"
#include "cfma/par/world.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

const Registrar run_command{Command{
    "run", "run the pipeline stages of a config in order (skipping up-to-date ones)",
    [](CLI::App& app) -> std::function<int()> {
      struct Args {
        std::string file;
        std::vector<std::string> overrides;
        bool force = false;
      };
      static Args args;
      app.add_option("config", args.file, "config file (TOML)")->required();
      app.add_option("--set", args.overrides, "override a key: section.key=value");
      app.add_flag("--force", args.force, "recompute every stage");
      return [] {
        const auto doc = ConfigDoc::load(args.file, args.overrides);
        validate_config(doc);  // every section and their cross-checks, before the first stage
        const auto run = parse_run_config(doc);
        // No other cfma job writes this workdir while the pipeline runs.
        const par::WorkdirLock lock(par::World::comm(), run.workdir, std::nullopt, "run");
        install_stop_signal_handlers();  // every stage stops at a unit boundary on SIGTERM/SIGUSR1
        ProgressMeter total("pipeline", static_cast<std::int64_t>(run.stages.size()), "stages", 0.0);
        std::int64_t done = 0;
        for (const auto& stage : stages()) {  // registry order = pipeline order
          if (std::find(run.stages.begin(), run.stages.end(), stage.name) == run.stages.end()) continue;
          spdlog::info("=== stage {} ===", stage.name);
          run_stage(stage, doc, StageOptions{args.force});
          // A signal that arrived as the stage finished: stop before the next one starts.
          if (par::stop_agreed(par::World::comm()))
            throw Interrupted("stopped by signal after stage " + stage.name + " (finished)");
          total.finish(++done);
        }
        return 0;
      };
    }}};

}  // namespace
}  // namespace cfma::jobs
