#pragma once
// All-pairs similarity as a distributed reduction (design.md, "Reductions").
//
//   pass 1  train column means: each rank streams its rows of the train split, column sums,
//           one all-reduce. (Two passes rather than correcting raw cross-products afterwards:
//           X'X - n mu mu' cancels about log10(|mu|^2 / var) digits, e.g. spectral centroids in
//           Hz or dB-scaled inputs, and the debiased terms are fourth order; centring the rows
//           before the products keeps every sum well conditioned. Pass 1 costs one read.)
//   pass 2  per split: each rank streams its rows chunk by chunk, every set read ONCE per chunk,
//           centred by the train mean (reference 7.1), and updates all Gram blocks (SYRK), all
//           cross blocks (one GEMM per pair), row-norm sums (debiased CKA) and, in minibatch
//           mode, per-minibatch unbiased HSIC of every pair. One all-reduce per accumulator.
//
// Paths: a set with D <= max_feature_space_dim gets Gram/cross blocks (exact CKA, CCA, LR);
// wider sets get only minibatch statistics, and CKA cells involving them hold minibatch CKA
// (Nguyen, Raghu, Kornblith 2021; an estimate of the debiased CKA). CCA, LR, Procrustes,
// SVCCA and PWCCA cells involving a wide set are NaN. The accumulators of each rank stay within
// max_accumulator_gib for any set list: plan.hpp splits the pairs into jobs and passes.
//
// linear_cka_calibrated: linear CKA minus the mean of its permutation null (every ordering of
// the rows of one set of the pair over the split, in closed form: permutation_null.hpp), with
// the null's sd; raw linear CKA between unrelated sets is far from 0 when n is not much larger
// than D. Feature-space pairs only (NaN for the others).
//
// Minibatches are consecutive blocks of b rows of the split's (ascending) row
// list, the last one absorbing the remainder, and ranks own whole minibatches, so the
// estimate does not depend on the rank count.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/mpi/communicator.hpp>

#include "cfma/par/stage_progress.hpp"
#include "cfma/sim/config.hpp"
#include "cfma/sim/measures.hpp"
#include "cfma/store/feature_sets.hpp"

namespace cfma::sim {

struct SplitRows {
  std::string name;                // "train", "test"
  std::vector<std::int64_t> rows;  // row indices into the sets (any order; sorted internally)
};

// How a cell was computed.
enum class PairPath : std::int32_t { feature_space = 0, minibatch = 1 };

struct SplitResult {
  std::string split;
  std::int64_t rows = 0;
  std::map<std::string, Matrix> values;  // measure -> S x S; (a, b) = measure(X = set a, Y = set b)
  std::map<std::string, Matrix> ci_low, ci_high;  // bootstrap percentile CIs (linear_cka)
  std::map<std::string, Matrix> p_value;          // permutation p-values (minibatch_cka)
  std::map<std::string, Matrix> null_sd;          // sd of the permutation null (linear_cka_calibrated)
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic> path;  // PairPath per cell
};

// Runs both passes on `comm` (collective). `train_rows` defines the centring mean. Throws
// SimilarityError (on every rank) for D = 0, fewer than 4 rows, sets with different row counts
// or unreadable/NaN rows. With `progress`, a split's pass is a unit of work: its reduced sums
// are saved, restored by a later attempt with the same stage key, and a stop signal between
// passes throws Interrupted on every rank.
std::vector<SplitResult> compute_similarity(const std::vector<store::FeatureSet>& sets,
                                            const std::vector<SplitRows>& splits,
                                            const std::vector<std::int64_t>& train_rows,
                                            const SimilarityConfig& config,
                                            const boost::mpi::communicator& comm,
                                            par::StageProgress* progress = nullptr);

// Poisson(1) multiplicity of `row` in bootstrap replicate `replicate` (counter-based, so it
// does not depend on chunking or rank count).
int bootstrap_weight(std::uint64_t seed, int replicate, std::int64_t row);

}  // namespace cfma::sim
