#include "cfma/sim/similarity_stage.hpp"

#include <algorithm>
#include <filesystem>

#include <Eigen/Core>
#include <boost/mpi/collectives.hpp>
#include <spdlog/spdlog.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/blas_runtime.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/par/stage_progress.hpp"
#include "cfma/par/world.hpp"
#include "cfma/sim/output.hpp"
#include "cfma/sim/similarity.hpp"
#include "cfma/store/feature_sets.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"

namespace cfma::sim {
namespace {

namespace fs = std::filesystem;

// An activations file must come from this features.h5: same row count and, when both files
// record it, the same preprocessing key.
void check_same_rows(const fs::path& activations, const fs::path& features, std::int64_t feature_rows,
                     const std::vector<store::FeatureSet>& sets) {
  const auto act = store::File::open_serial(activations);
  const auto feat = store::File::open_serial(features);
  if (act.has_attr("features_key") && feat.has_attr("config_key") &&
      act.attr_string("features_key") != feat.attr_string("config_key"))
    throw SimilarityError(activations.string() + ": extracted from another features.h5 (features_key " +
                          act.attr_string("features_key") + " != " + features.string() + " config_key " +
                          feat.attr_string("config_key") + "): row order may differ; re-run extract");
  for (const auto& s : sets)
    if (s.rows != feature_rows)
      throw SimilarityError(activations.string() + ": set '" + s.name + "' has " + std::to_string(s.rows) +
                            " rows but " + features.string() + " has " + std::to_string(feature_rows) +
                            "; re-run extract");
}

bool selected(const std::vector<std::string>& selectors, const store::FeatureSet& set, const std::string& kind) {
  return std::any_of(selectors.begin(), selectors.end(),
                     [&](const std::string& sel) { return selector_matches(sel, set.name, kind); });
}

struct StagePlan {
  std::vector<store::FeatureSet> sets;
  StageKey key;
};

// Candidate sets in a fixed order: activations (file name order), hand-crafted, input.
StagePlan plan_sets(const WorkPaths& paths, const SimilarityConfig& config) {
  if (!fs::exists(paths.features()))
    throw SimilarityError(paths.features().string() + ": missing; run preprocess first");
  const auto hand = store::hand_feature_sets(paths.features(), config.noise_seed);
  const std::int64_t n_rows = hand.front().rows;
  StagePlan plan{{}, StageKey{"similarity", to_json(config)}};
  plan.key.inputs["features.h5"] = output_fingerprint(paths.features());
  for (const auto& file : store::activation_files(paths)) {
    auto act = store::activation_feature_sets(file);
    std::vector<store::FeatureSet> chosen;
    for (auto& s : act)
      if (selected(config.sets, s, "activations")) chosen.push_back(std::move(s));
    if (chosen.empty()) continue;
    check_same_rows(file, paths.features(), n_rows, chosen);
    plan.key.inputs["activations/" + file.filename().string()] = output_fingerprint(file);
    for (auto& s : chosen) plan.sets.push_back(std::move(s));
  }
  for (const auto& s : hand)
    if (selected(config.sets, s, "hand")) plan.sets.push_back(s);
  const auto input = store::input_feature_set(paths.features());
  if (selected(config.sets, input, "input")) plan.sets.push_back(input);
  for (const auto& sel : config.sets) {  // a named set that matched nothing is a typo
    const bool matched = sel == "all" || sel == "activations" || sel == "hand" || sel == "input" ||
                         std::any_of(plan.sets.begin(), plan.sets.end(),
                                     [&](const auto& s) { return selector_matches(sel, s.name, ""); });
    if (!matched) throw SimilarityError("[similarity] sets: '" + sel + "' matches no feature set");
  }
  if (plan.sets.empty()) throw SimilarityError("similarity: no feature sets selected ([similarity] sets)");
  return plan;
}

}  // namespace

bool selector_matches(const std::string& sel, const std::string& name, const std::string& kind) {
  if (sel == "all" || sel == kind || sel == name) return true;
  return !sel.empty() && sel.back() == '*' && name.rfind(sel.substr(0, sel.size() - 1), 0) == 0;
}

bool run_similarity_stage(const boost::mpi::communicator& comm, const WorkPaths& paths,
                          const SimilarityConfig& config, int threads, bool force) {
  Eigen::setNbThreads(threads);  // GEMM threads per rank
  set_blas_threads(threads);
  const bool root = comm.rank() == 0;
  const auto h5_out = paths.results() / "similarity.h5";
  const auto csv_out = paths.results() / "similarity.csv";

  StagePlan plan;
  std::string error;
  int up_to_date = 0;
  try {
    plan = plan_sets(paths, config);
    up_to_date = root && !force && is_up_to_date(h5_out, plan.key) && fs::exists(csv_out) ? 1 : 0;
  } catch (const std::exception& e) {
    error = e.what();
  }
  par::check_all(comm, error);
  boost::mpi::broadcast(comm, up_to_date, 0);
  if (up_to_date) {
    if (root) spdlog::info("similarity: {} is up to date", h5_out.string());
    return false;
  }

  const auto features = store::File::open_serial(paths.features());
  const auto read_split = [&](const char* name) { return features.read_all<std::int64_t>(name); };
  const auto train_rows = read_split(store::schema::split_train);
  std::vector<SplitRows> splits;
  for (const auto& split : config.splits)
    splits.push_back({split, read_split(split == "train" ? store::schema::split_train : store::schema::split_test)});

  if (root) {
    spdlog::info("similarity: Gram products on {}", blas_description());
    if (const auto note = blas_kernel_note(); !note.empty()) spdlog::info("similarity: {}", note);
  }
  par::StageProgress progress(comm, paths.results() / "similarity.h5.partial", plan.key.hash());
  const auto results = compute_similarity(plan.sets, splits, train_rows, config, comm, &progress);

  // Rank 0 writes (serial HDF5); the others wait for its verdict so a failed write fails all.
  const auto tag = par::shared_tag(comm);
  if (root) {
    try {
      fs::create_directories(paths.results());
      write_file_atomic(csv_out, similarity_csv(plan.sets, results));
      AtomicOutput h5(h5_out, tag);
      write_similarity_h5(h5.temp_path(), plan.sets, results);
      h5.commit();
      write_manifest(h5_out, plan.key, {{"sets", plan.sets.size()}, {"csv", csv_out.filename().string()}});
      progress.remove();
      spdlog::info("similarity: wrote {} and {} ({} sets)", h5_out.string(), csv_out.string(), plan.sets.size());
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
  return true;
}

}  // namespace cfma::sim
