// `cfma submit CONFIG [--dry-run] [--set k=v]...`: the study as a Slurm dependency graph
// (preprocess -> training array -> analysis); the plan is in cfma/slurm/submit.hpp.
#include <filesystem>
#include <iostream>

#include "cfma/par/world.hpp"
#include "cfma/slurm/slurm_config.hpp"
#include "cfma/slurm/submit.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

const Registrar submit_command{Command{
    "submit", "submit a study to Slurm: preprocess -> training job array -> analysis (afterok)",
    [](CLI::App& app) -> std::function<int()> {
      struct Args {
        std::string file;
        std::vector<std::string> overrides;
        bool dry_run = false;
      };
      static Args args;
      app.add_option("config", args.file, "config file (TOML)")->required();
      app.add_option("--set", args.overrides, "override a key: section.key=value (forwarded to every job)");
      app.add_flag("--dry-run", args.dry_run, "print the sbatch commands instead of running them");
      return [] {
        const auto doc = ConfigDoc::load(args.file, args.overrides);
        validate_config(doc);
        if (par::World::rank() != 0) return 0;
        namespace fs = std::filesystem;
        const auto binary = fs::canonical("/proc/self/exe");
        const slurm::SubmitInputs inputs{fs::absolute(args.file), args.overrides, binary,
                                         fs::path(CFMA_SOURCE_DIR) / "slurm" / "cfma.sbatch"};
        const auto plan = slurm::plan_submission(doc, inputs);
        if (args.dry_run) {
          for (const auto& job : plan.jobs) std::cout << "# " << job.name << "\n" << slurm::shell_command(job.argv) << "\n";
          return 0;
        }
        const auto ids = slurm::submit(plan);
        for (std::size_t i = 0; i < ids.size(); ++i) std::cout << plan.jobs[i].name << " " << ids[i] << "\n";
        std::cout << "logs: " << plan.log_dir.string() << "\n";
        return 0;
      };
    }}};

}  // namespace
}  // namespace cfma::jobs
