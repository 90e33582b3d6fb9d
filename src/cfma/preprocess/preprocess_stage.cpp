#include "cfma/preprocess/preprocess_stage.hpp"

#include <boost/mpi/collectives.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/error.hpp"
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
  namespace fs = std::filesystem;
  const bool root = comm.rank() == 0;
  const auto output = paths.features();

  // Up to date? Decided from examples.json and the wavs' sizes and mtimes, before any audio is read.
  auto scan = scan_on_root(data_config, comm);
  const auto key = preprocess_stage_key(data_config, features_config, scan_fingerprint(scan, data_config, comm));
  std::string error;
  int up_to_date = 0;
  if (root) {
    try {
      up_to_date = !force && is_up_to_date(output, key) ? 1 : 0;
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
  boost::mpi::broadcast(comm, up_to_date, 0);
  if (up_to_date) {
    spdlog::info("preprocess: {} is up to date, skipped", output.string());
    return false;
  }

  const auto selection = fix_selection(data_config, comm, std::move(scan)).selection;
  const auto n = static_cast<std::int64_t>(selection.examples.size());
  spdlog::info("preprocess: {} notes ({} train, {} test, {} skipped) on {} ranks -> {}", n,
               selection.train.size(), selection.test.size(), selection.skipped.size(), comm.size(),
               output.string());

  // A stopped attempt leaves its rows in <output>.partial and the rounds written in
  // <output>.partial.json; the next attempt with the same key and rank count goes on from there.
  const fs::path partial = output.string() + ".partial";
  const fs::path partial_state = output.string() + ".partial.json";
  std::int64_t start_round = 0;
  if (root) {
    try {
      fs::create_directories(output.parent_path().empty() ? "." : output.parent_path());
      if (fs::exists(partial_state) && fs::exists(partial)) {
        const auto state = nlohmann::json::parse(read_file(partial_state), nullptr, false);
        if (!state.is_discarded() && state.value("key", "") == key.hash() && state.value("ranks", 0) == comm.size())
          start_round = state.value("rounds_done", std::int64_t{0});
      }
      if (start_round == 0) {
        fs::remove(partial_state);
        fs::remove(partial);
      } else {
        spdlog::info("preprocess: resuming {} from round {} of {}", partial.string(), start_round,
                     write_rounds(n, comm.size()));
        // Rewritten only when this attempt stops cleanly: an attempt that fails may leave the
        // file damaged, and the next one then starts afresh.
        fs::remove(partial_state);
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
  boost::mpi::broadcast(comm, start_round, 0);
  const auto rounds = write_rounds(n, comm.size());
  std::int64_t done = 0;
  try {
    done = write_features_file(comm, partial, selection, data_config, features_config, key.hash(), start_round);
  } catch (...) {
    // A failed write leaves no resumable state (above): free the space the file takes.
    std::error_code ignored;
    if (root) fs::remove(partial, ignored);
    throw;
  }
  if (root) {
    try {
      if (done < rounds) {
        write_file_atomic(partial_state, nlohmann::json{{"key", key.hash()}, {"ranks", comm.size()},
                                                        {"rounds_done", done}, {"rounds", rounds}}.dump());
      } else {
        fs::rename(partial, output);
        fs::remove(partial_state);
        nlohmann::json skipped = nlohmann::json::array();
        for (const auto& p : selection.skipped) skipped.push_back(p);
        write_manifest(output, key, {{"examples", n}, {"train", selection.train.size()},
                                     {"test", selection.test.size()}, {"skipped", skipped},
                                     {"ranks", comm.size()}});
        spdlog::info("preprocess: wrote {} ({} notes, {} skipped)", output.string(), n, selection.skipped.size());
      }
    } catch (const std::exception& e) {
      error = output.string() + ": " + e.what();
    }
  }
  par::check_all(comm, error);
  if (done < rounds)
    throw Interrupted("preprocess: stopped by signal after " + std::to_string(done) + " of " + std::to_string(rounds) +
                      " rounds (kept in " + partial.string() + ")");
  return true;
}

}  // namespace cfma::preprocess
