// `cfma render [--config FILE] [--soundfont SF2] [--out DIR] [--programs P...]`: render a
// NSynth-like dataset from a General MIDI SoundFont (cfma/data/render.hpp). Rank 0 renders;
// other ranks only wait, so the command also works under mpirun.
//
// Default programs (GM, 0-based; family/source/range in src/cfma/data/gm_table.cpp):
//   keyboard 0 1 6 | mallet 11 12 13 | guitar 24 25 105 | string 40 42 48 | brass 56 57 60 |
//   reed 65 68 71 | flute 72 73 75 | vocal 52 53 | bass 32 | organ 19 20   (all acoustic)
#include <iostream>

#include "cfma/core/error.hpp"
#include "cfma/core/log.hpp"
#include "cfma/data/render.hpp"
#include "cfma/par/world.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

const Registrar render_command{Command{
    "render", "render a NSynth-like dataset (jsonwav layout) from a General MIDI SoundFont",
    [](CLI::App& app) -> std::function<int()> {
      struct Args {
        std::string config;
        std::vector<std::string> overrides;
        std::string soundfont;
        std::string out;
        std::vector<int> programs;
      };
      static Args args;
      app.add_option("--config", args.config, "config file whose [render] section to use (TOML)");
      app.add_option("--set", args.overrides, "override a key: render.key=value");
      app.add_option("--soundfont", args.soundfont, "SoundFont (.sf2); default TimGM6mb");
      app.add_option("--out", args.out, "output folder (examples.json + audio/)");
      app.add_option("--programs", args.programs, "GM programs to render (0-based)")->check(CLI::Range(0, 127));
      return [] {
        data::RenderConfig config = data::default_render_config();
        if (!args.config.empty() || !args.overrides.empty()) {
          const auto doc = args.config.empty() ? ConfigDoc::from_string("", "<command line>", args.overrides)
                                               : ConfigDoc::load(args.config, args.overrides);
          config = data::parse_render_config(doc);
          validate_config(doc);  // the other sections of a pipeline config, and unknown keys
        }
        if (!args.soundfont.empty()) config.soundfont = args.soundfont;
        if (!args.out.empty()) config.out = args.out;
        if (!args.programs.empty()) config.programs = args.programs;

        std::string error;
        if (par::World::rank() == 0) {
          try {
            spdlog::info("render: {} programs from {} into {}", config.programs.size(),
                         config.soundfont.string(), config.out.string());
            const auto summary = data::render_dataset(config);
            std::string families;
            for (const auto& [family, n] : summary.notes_per_family)
              families += (families.empty() ? "" : ", ") + family + " " + std::to_string(n);
            spdlog::info("render: {} notes written ({}), {} silent skipped, {} with clipping, {:.1f} s",
                         summary.notes_written, families, summary.notes_silent, summary.notes_clipped,
                         summary.seconds);
          } catch (const std::exception& e) {
            error = e.what();
          }
        }
        par::check_all(par::World::comm(), error);
        return 0;
      };
    }}};

}  // namespace
}  // namespace cfma::jobs
