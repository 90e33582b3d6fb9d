// `cfma preprocess CONFIG`: NSynth notes -> features.h5 (design: Sharding); the work is in
// cfma/preprocess/preprocess_stage.hpp so that tests can run it.
#include "cfma/core/paths.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/data/data_config.hpp"
#include "cfma/dsp/features_config.hpp"
#include "cfma/par/world.hpp"
#include "cfma/preprocess/preprocess_stage.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

const Registrar preprocess_stage{Stage{
    "preprocess", 10, "NSynth notes -> features.h5 (mel_db, hand-crafted features, labels, split)",
    [](const ConfigDoc& doc) {
      data::parse_data_config(doc);
      dsp::parse_features_config(doc);
    },
    [](const ConfigDoc& doc, const StageOptions& options) {
      const auto run = parse_run_config(doc);
      const auto data_config = data::parse_data_config(doc);
      const auto features_config = dsp::parse_features_config(doc);
      preprocess::run_preprocess_stage(par::World::comm(), WorkPaths{run.workdir}, data_config, features_config,
                                       options.force);
    }}};

}  // namespace
}  // namespace cfma::jobs
