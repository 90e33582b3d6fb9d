#pragma once
// The similarity job's outputs.
//   similarity.h5: /set_names, /set_display_names (strings [S]), /set_dims int64 [S],
//     /<split>/<measure> float64 [S, S] with (a, b) = measure(X = set a, Y = set b)
//     (CKA is symmetric; cca_r2, cca_r2_mean, lr_r2 are not: X is the row set),
//     /<split>/path int32 [S, S] (0 feature space, 1 minibatch), /<split>/rows int64 [1],
//     /<split>/<measure>_ci_low, _ci_high (bootstrap), /<split>/<measure>_p_value (permutations), /<split>/<measure>_null_sd (the permutation
//     null's sd of linear_cka_calibrated).
//   similarity.csv: split,measure,set_a,set_b,value,ci_low,ci_high,p_value,null_sd (empty when off).
#include <filesystem>
#include <string>
#include <vector>

#include "cfma/sim/similarity.hpp"

namespace cfma::sim {

// Serial write (call on one rank), to `path` as given (callers pass a temporary name).
void write_similarity_h5(const std::filesystem::path& path, const std::vector<store::FeatureSet>& sets,
                         const std::vector<SplitResult>& results);
std::string similarity_csv(const std::vector<store::FeatureSet>& sets, const std::vector<SplitResult>& results);

}  // namespace cfma::sim
