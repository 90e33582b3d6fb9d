#include "cfma/sim/config.hpp"

#include <algorithm>

#include "cfma/core/error.hpp"

namespace cfma::sim {

namespace {
std::string known_list() {
  std::string out;
  for (const auto& m : known_measures()) out += (out.empty() ? "" : ", ") + m;
  return out;
}
}  // namespace

SimilarityConfig parse_similarity_config(const ConfigDoc& doc) {
  const auto s = doc.section("similarity");
  SimilarityConfig c;
  c.measures = s.get_string_list("measures", c.measures);
  for (std::size_t i = 0; i < c.measures.size(); ++i)
    if (std::find(known_measures().begin(), known_measures().end(), c.measures[i]) == known_measures().end())
      s.fail_element("measures", i, "unknown measure '" + c.measures[i] + "' (known: " + known_list() + ")");
  if (c.measures.empty()) s.fail("measures", "empty list");
  s.check_unique("measures", c.measures);
  c.splits = s.get_string_list("splits", c.splits);
  for (std::size_t i = 0; i < c.splits.size(); ++i)
    if (c.splits[i] != "train" && c.splits[i] != "test")
      s.fail_element("splits", i, "unknown split '" + c.splits[i] + "' (train, test)");
  if (c.splits.empty()) s.fail("splits", "empty list");
  c.sets = s.get_string_list("sets", c.sets);
  if (c.sets.empty()) s.fail("sets", "empty list");
  c.chunk_rows = s.get_int("chunk_rows", c.chunk_rows, at_least(1));
  c.minibatch_size = s.get_int("minibatch_size", c.minibatch_size, at_least(4));
  c.max_feature_space_dim = s.get_int("max_feature_space_dim", c.max_feature_space_dim, at_least(1));
  c.noise_seed = static_cast<std::uint64_t>(s.get_int("noise_seed", 0, at_least(0)));
  c.bootstrap = static_cast<int>(s.get_int("bootstrap", c.bootstrap, between(0, 100000)));
  c.permutations = static_cast<int>(s.get_int("permutations", c.permutations, between(0, 100000)));
  c.seed = static_cast<std::uint64_t>(s.get_int("seed", 0, at_least(0)));
  c.rank_tolerance = s.get_double("rank_tolerance", c.rank_tolerance, between(0.0, 1.0));
  c.max_accumulator_gib = s.get_double("max_accumulator_gib", c.max_accumulator_gib, greater_than(0.0));
  c.svcca_keep = s.get_double("svcca_keep", c.svcca_keep, Range{0.0, 1.0, true});
  if (c.permutations > 0 &&
      std::find(c.measures.begin(), c.measures.end(), "minibatch_cka") == c.measures.end())
    s.fail("permutations", "p-values are computed for minibatch_cka; add it to measures");
  if (c.bootstrap > 0 &&
      std::find(c.measures.begin(), c.measures.end(), "linear_cka") == c.measures.end())
    s.fail("bootstrap", "CIs are computed for linear_cka; add it to measures");
  return c;
}

bool wants(const SimilarityConfig& c, const std::string& measure) {
  return std::find(c.measures.begin(), c.measures.end(), measure) != c.measures.end();
}

bool wants_cross_measures(const SimilarityConfig& c) {
  for (const char* m : {"cca_r2", "cca_r2_mean", "lr_r2", "procrustes", "svcca", "pwcca"})
    if (wants(c, m)) return true;
  return false;
}

nlohmann::json to_json(const SimilarityConfig& c) {
  nlohmann::json j = {{"measures", c.measures},
          {"splits", c.splits},
          {"sets", c.sets},
          {"chunk_rows", c.chunk_rows},
          {"minibatch_size", c.minibatch_size},
          {"max_feature_space_dim", c.max_feature_space_dim},
          {"noise_seed", c.noise_seed},
          {"bootstrap", c.bootstrap},
          {"permutations", c.permutations},
          {"seed", c.seed},
          {"rank_tolerance", c.rank_tolerance},
          {"max_accumulator_gib", c.max_accumulator_gib}};
  // Written only with SVCCA, so the stage keys of workdirs made before the key stay valid.
  if (std::find(c.measures.begin(), c.measures.end(), "svcca") != c.measures.end()) j["svcca_keep"] = c.svcca_keep;
  return j;
}

}  // namespace cfma::sim
