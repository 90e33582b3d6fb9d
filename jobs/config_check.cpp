// `cfma config check FILE [--set k=v]...`: parse every section, report the first problem.
#include <iostream>

#include "cfma/core/run_config.hpp"
#include "cfma/data/render.hpp"
#include "cfma/par/world.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {

void validate_config(const ConfigDoc& doc) {
  parse_run_config(doc);
  data::parse_render_config(doc);  // [render] is read by `cfma render --config`
  for (const auto& stage : stages()) stage.validate(doc);
  doc.check_unknown_keys();
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
