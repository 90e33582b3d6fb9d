#pragma once
// [similarity]: which measures, splits and feature sets; streaming and path choices.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfma/core/config.hpp"

namespace cfma::sim {

// Measure names (keys of the output matrices).
inline const std::vector<std::string>& known_measures() {
  static const std::vector<std::string> m = {"linear_cka", "debiased_cka", "minibatch_cka", "cca_r2",
                                             "cca_r2_mean", "lr_r2", "procrustes", "svcca", "pwcca",
                                             "linear_cka_calibrated"};
  return m;
}

struct SimilarityConfig {
  std::vector<std::string> measures = {"linear_cka", "debiased_cka", "cca_r2", "lr_r2"};
  std::vector<std::string> splits = {"train", "test"};
  // Set selectors: "all" (every activation set + the 23 hand-crafted sets + the input),
  // "activations", "hand", "input", an exact set name ("hand/rms", "<run>/conv3"), or a prefix
  // ending in '*' ("Regular-family-s1/*").
  std::vector<std::string> sets = {"all"};
  // Rows per rank per accumulation step: the stacked chunk takes 8 D_Z chunk_rows bytes (D_Z = the
  // feature-space sets' widths summed); below ~2048 the tile products lose 5-10 % to overheads.
  std::int64_t chunk_rows = 2048;
  std::int64_t minibatch_size = 1000;
  // Sets wider than this use the minibatch path (O(b^2) per set) instead of Gram blocks.
  std::int64_t max_feature_space_dim = 4096;
  std::uint64_t noise_seed = 0;
  int bootstrap = 0;       // replicates for linear-CKA percentile CIs (feature-space pairs); 0 = off
  int permutations = 0;    // minibatch-CKA permutation p-values; 0 = off
  std::uint64_t seed = 0;  // bootstrap weights and permutations
  // Eigenvalues of X'X below rank_tolerance * largest are treated as zero (CCA / LR).
  double rank_tolerance = 1e-10;
  // SVCCA keeps the top singular directions of each set that explain this share of its
  // variance (Raghu et al. 2017: 0.99).
  double svcca_keep = 0.99;
  // Accumulator memory per rank (GiB): larger set lists are split into jobs and passes
  // (plan.hpp).
  double max_accumulator_gib = 16.0;
};

SimilarityConfig parse_similarity_config(const ConfigDoc& doc);
nlohmann::json to_json(const SimilarityConfig& c);
// True when `measure` is in c.measures.
bool wants(const SimilarityConfig& c, const std::string& measure);
// True when a measure needs the cross-covariance block of a pair (CCA, LR, Procrustes, SVCCA,
// PWCCA): products and eigensolvers beyond CKA's norms.
bool wants_cross_measures(const SimilarityConfig& c);

}  // namespace cfma::sim
