// `cfma config check FILE [--set k=v]...`: parse every section, cross-check them, report the
// first problem with its file:line and key.
#include <algorithm>
#include <iostream>

#include "cfma/core/run_config.hpp"
#include "cfma/data/render.hpp"
#include "cfma/par/world.hpp"
#include "cfma/slurm/slurm_config.hpp"
#include "cfma/study/config_check.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {

void validate_config(const ConfigDoc& doc) {
  const auto run = parse_run_config(doc);
  for (std::size_t i = 0; i < run.stages.size(); ++i)
    if (std::none_of(stages().begin(), stages().end(), [&](const Stage& s) { return s.name == run.stages[i]; }))
      doc.section("run").fail_element("stages", i, "unknown stage '" + run.stages[i] + "'");
  data::parse_render_config(doc);  // [render] is read by `cfma render --config`
  slurm::parse_slurm_config(doc);  // [slurm] is read by `cfma submit`
  for (const auto& stage : stages()) stage.validate(doc);
  doc.check_unknown_keys();
  study::check_config(doc);  // sections against each other and the architecture registry
}

namespace {

const Registrar config_command{Command{
    "config", "work with config files",
    [](CLI::App& app) -> std::function<int()> {
      struct Args {
        std::string file;
        std::vector<std::string> overrides;
        bool print = false;
      };
      static Args args;
      auto* check = app.add_subcommand("check", "validate a config file (unknown keys, types, ranges)");
      app.require_subcommand(1);
      check->add_option("file", args.file, "config file (TOML)")->required();
      check->add_option("--set", args.overrides, "override a key: section.key=value");
      check->add_flag("--print", args.print, "print the config after overrides");
      return [] {
        const auto doc = ConfigDoc::load(args.file, args.overrides);
        validate_config(doc);
        if (par::World::rank() == 0) {
          if (args.print) std::cout << doc.to_toml() << "\n";
          std::cout << args.file << ": ok\n";
        }
        return 0;
      };
    }}};

}  // namespace
}  // namespace cfma::jobs
