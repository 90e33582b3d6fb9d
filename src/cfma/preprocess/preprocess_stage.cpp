#include "cfma/preprocess/preprocess_stage.hpp"

#include <boost/mpi/collectives.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/par/world.hpp"
#include "cfma/preprocess/features_writer.hpp"
#include "cfma/preprocess/fixed_selection.hpp"

namespace cfma::preprocess {

StageKey preprocess_stage_key(const data::DataConfig& data_config, const dsp::FeaturesConfig& features_config,
                              const std::string& input_fingerprint) {
  return StageKey{"preprocess",
                  {{"data", data::to_json(data_config)}, {"features", dsp::to_json(features_config)}},
                  {{"nsynth", input_fingerprint}}};
}

bool run_preprocess_stage(const boost::mpi::communicator& comm, const WorkPaths& paths,
                          const data::DataConfig& data_config, const dsp::FeaturesConfig& features_config,
                          bool force) {
  const bool root = comm.rank() == 0;
  const auto output = paths.features();

  const auto [selection, fingerprint] = fix_selection(data_config, comm);
  const auto key = preprocess_stage_key(data_config, features_config, fingerprint);
  int up_to_date = root && !force && is_up_to_date(output, key) ? 1 : 0;
  boost::mpi::broadcast(comm, up_to_date, 0);
  if (up_to_date) {
    spdlog::info("preprocess: {} is up to date, skipped", output.string());
    return false;
  }

  const auto n = static_cast<std::int64_t>(selection.examples.size());
  spdlog::info("preprocess: {} notes ({} train, {} test, {} skipped) on {} ranks -> {}", n,
               selection.train.size(), selection.test.size(), selection.skipped.size(), comm.size(),
               output.string());
  AtomicOutput out(output, par::shared_tag(comm));
  write_features_file(comm, out.temp_path(), selection, data_config, features_config, key.hash());
  comm.barrier();
  if (root) {
    out.commit();
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& p : selection.skipped) skipped.push_back(p);
    write_manifest(output, key, {{"examples", n}, {"train", selection.train.size()},
                                 {"test", selection.test.size()}, {"skipped", skipped},
                                 {"ranks", comm.size()}});
    spdlog::info("preprocess: wrote {} ({} notes, {} skipped)", output.string(), n, selection.skipped.size());
  } else {
    out.release();
  }
  comm.barrier();
  return true;
}

}  // namespace cfma::preprocess
