// `cfma similarity CONFIG`: all-pairs CKA / CCA / regression similarity of every selected
// feature set (activations of every run, the 23 hand-crafted sets, the input) on the train and
// test splits (reference-spec 7). The reduction lives in cfma/sim; this file chooses the sets,
// checks that they share features.h5's rows, and writes results/similarity.{h5,csv} + manifest.
#include <algorithm>
#include <filesystem>

#include <Eigen/Core>
#include <spdlog/spdlog.h>

#include "cfma/core/atomic_file.hpp"
#include "cfma/core/blas_runtime.hpp"
#include "cfma/core/error.hpp"
#include "cfma/core/manifest.hpp"
#include "cfma/core/paths.hpp"
#include "cfma/core/run_config.hpp"
#include "cfma/par/world.hpp"
#include "cfma/sim/config.hpp"
#include "cfma/sim/output.hpp"
#include "cfma/sim/similarity.hpp"
#include "cfma/store/feature_sets.hpp"
#include "cfma/store/h5.hpp"
#include "cfma/store/schema.hpp"
#include "jobs/registry.hpp"

namespace cfma::jobs {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> activation_files(const WorkPaths& paths) {
  std::vector<fs::path> files;
  if (fs::is_directory(paths.activations_dir()))
    for (const auto& e : fs::directory_iterator(paths.activations_dir()))
      if (e.is_regular_file() && e.path().extension() == ".h5") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

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
  for (const auto& sel : selectors) {
    if (sel == "all" || sel == kind || sel == set.name) return true;
    if (!sel.empty() && sel.back() == '*' && set.name.rfind(sel.substr(0, sel.size() - 1), 0) == 0) return true;
  }
  return false;
}

void run_similarity(const ConfigDoc& doc, const StageOptions& options) {
  const auto run = parse_run_config(doc);
  Eigen::setNbThreads(resolve_threads(run.threads));  // GEMM threads per rank
  set_blas_threads(resolve_threads(run.threads));
  const auto config = sim::parse_similarity_config(doc);
  const WorkPaths paths{run.workdir};
  auto& comm = par::World::comm();
  const bool root = comm.rank() == 0;
  const auto h5_out = paths.results() / "similarity.h5";
  const auto csv_out = paths.results() / "similarity.csv";
  if (!fs::exists(paths.features()))
    throw SimilarityError(paths.features().string() + ": missing; run preprocess first");

  // Candidate sets in a fixed order: activations (file name order), hand-crafted, input.
  const auto features = store::File::open_serial(paths.features());
  const auto hand = store::hand_feature_sets(paths.features(), config.noise_seed);
  const std::int64_t n_rows = hand.front().rows;
  std::vector<store::FeatureSet> sets;
  StageKey key{"similarity", sim::to_json(config)};
  key.inputs["features.h5"] = output_fingerprint(paths.features());
  for (const auto& file : activation_files(paths)) {
    auto act = store::activation_feature_sets(file);
    std::vector<store::FeatureSet> chosen;
    for (auto& s : act)
      if (selected(config.sets, s, "activations")) chosen.push_back(std::move(s));
    if (chosen.empty()) continue;
    check_same_rows(file, paths.features(), n_rows, chosen);
    key.inputs["activations/" + file.filename().string()] = output_fingerprint(file);
    for (auto& s : chosen) sets.push_back(std::move(s));
  }
  for (const auto& s : hand)
    if (selected(config.sets, s, "hand")) sets.push_back(s);
  const auto input = store::input_feature_set(paths.features());
  if (selected(config.sets, input, "input")) sets.push_back(input);
  for (const auto& sel : config.sets) {  // a named set that matched nothing is a typo
    const bool matched = sel == "all" || sel == "activations" || sel == "hand" || sel == "input" ||
                         std::any_of(sets.begin(), sets.end(), [&](const auto& s) { return selected({sel}, s, ""); });
    if (!matched) throw ConfigError("[similarity] sets: '" + sel + "' matches no feature set");
  }
  if (sets.empty()) throw SimilarityError("similarity: no feature sets selected ([similarity] sets)");

  if (!options.force && is_up_to_date(h5_out, key) && fs::exists(csv_out)) {
    if (root) spdlog::info("similarity: {} is up to date", h5_out.string());
    return;
  }

  const auto read_split = [&](const char* name) {
    return features.read_all<std::int64_t>(name);
  };
  const auto train_rows = read_split(store::schema::split_train);
  std::vector<sim::SplitRows> splits;
  for (const auto& split : config.splits)
    splits.push_back({split, read_split(split == "train" ? store::schema::split_train : store::schema::split_test)});

  if (root) {
    spdlog::info("similarity: Gram products on {}", blas_description());
    if (const auto note = blas_kernel_note(); !note.empty()) spdlog::info("similarity: {}", note);
  }
  const auto results = sim::compute_similarity(sets, splits, train_rows, config, comm);

  // Rank 0 writes (serial HDF5); the others wait for its verdict so a failed write fails all.
  const auto tag = par::shared_tag(comm);
  std::string error;
  if (root) {
    try {
      fs::create_directories(paths.results());
      write_file_atomic(csv_out, sim::similarity_csv(sets, results));
      AtomicOutput h5(h5_out, tag);
      sim::write_similarity_h5(h5.temp_path(), sets, results);
      h5.commit();
      write_manifest(h5_out, key, {{"sets", sets.size()}, {"csv", csv_out.filename().string()}});
      spdlog::info("similarity: wrote {} and {} ({} sets)", h5_out.string(), csv_out.string(), sets.size());
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  par::check_all(comm, error);
}

const Registrar similarity_stage{Stage{
    "similarity", 50, "all-pairs CKA, CCA R^2 and regression similarity of feature sets",
    [](const ConfigDoc& doc) { sim::parse_similarity_config(doc); },
    run_similarity}};

}  // namespace
}  // namespace cfma::jobs
