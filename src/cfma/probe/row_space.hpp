#pragma once
// Row-space reduction of a feature set with fewer training rows n than columns D.
//
// Every L2-regularised linear probe (and the minimum-norm OLS solution) has its weights in the
// span of the standardised training rows X (n x D). Any orthonormal basis V (D x r) of that
// span gives X = Z V' with Z = X V (n x r), X W = Z w and ||W|| = ||w|| for W = V w, and test
// rows map to Z_test = X_test V: the probes solved on the r columns of Z have the same optimum
// and the same predictions as in D dimensions, at O(n^2 D) for the Gram instead of O(n D) per
// solver iteration. The basis comes from the pivoted Cholesky factor of the train Gram G =
// X X' = P L L' P' (rank r: pivots above 1e-12 of G's largest diagonal): V = X_piv' L11^(-T)
// over the r pivot rows, so Z = P L and Z_test = (X_test X_piv') L11^(-T), never forming V.
// (An eigendecomposition of G gives the same optimum; LAPACK's dpstrf is 12x faster than its
// dsyevd at n = 1,500.) One factorisation serves every target of the set.
//
// Distribution: rank p of P owns a contiguous block of the columns. It reads every train and
// test row of the set but keeps and standardises only its columns (train statistics, or test
// statistics for the test rows in "paper" scaler mode), forms its share of G and of the cross
// Gram X_test X', and one all-reduce sums them. Every rank then factorises the same G and keeps
// Z for its par::block_of rows, as LocalRows in memory. Memory per rank: (n + n_test) x D / P
// doubles for the column block, plus (n + n_test) x n for the Grams.
#include <cstdint>
#include <vector>

#include <boost/mpi/communicator.hpp>

#include "cfma/probe/local_rows.hpp"
#include "cfma/probe/probe_config.hpp"
#include "cfma/store/feature_sets.hpp"

namespace cfma::probe {

struct RowSpace {
  // This rank's rows of Z and Z_test (standardised space). The train rows come in pivot order
  // (train.row_ids(): pair labels by it), with their triangular extents; test rows ascending.
  LocalRows train, test;
  std::int64_t rank = 0;  // r: pivots above 1e-12 x G's largest diagonal
};

// Collective. `train_rows` / `test_rows`: the whole split row lists (any order); `local_train`
// / `local_test`: this rank's rows (ascending), as local_block gives them. Throws ProbeError
// on every rank when any rank fails to read (NaN, missing file).
RowSpace reduce_to_row_space(const boost::mpi::communicator& comm, const store::FeatureSet& set,
                             const std::vector<std::int64_t>& train_rows, const std::vector<std::int64_t>& test_rows,
                             const std::vector<std::int64_t>& local_train, const std::vector<std::int64_t>& local_test,
                             const ProbeConfig& config);

}  // namespace cfma::probe
